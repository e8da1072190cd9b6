//! The step engine.

mod cancel;
mod decide;
mod error;
mod events;
mod poll;
mod retry;
mod run;
mod step;

pub use cancel::{Cancel, CancelHandle, cancel_pair};
pub use decide::{Decision, TARGET_COMPONENT, decide, plan};
pub use error::{ErrorClass, StepError, TRANSIENT_MARKERS, classify_text};
pub use events::{Answer, AutoApprove, Event, Prompter, Reporter, Silent};
pub use poll::Poller;
pub use retry::{FullJitter, RetryPolicy};
pub use run::{Engine, Outcome, Selection, StepResult};
pub use step::{Live, Step, StepContext};

#[cfg(test)]
mod tests;

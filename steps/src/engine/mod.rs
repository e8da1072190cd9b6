//! The step engine.

mod attempt;
mod decide;
mod error;
mod events;
mod inventory;
mod poll;
mod retry;
mod run;
mod step;

/// Cancellation: Ctrl-C / SIGTERM cancels it; the engine and long waits watch it.
pub use tokio_util::sync::CancellationToken as Cancel;
/// The side that cancels (the signal handler): the same token.
pub use tokio_util::sync::CancellationToken as CancelHandle;

/// A token, and the handle that cancels it.
pub fn cancel_pair() -> (CancelHandle, Cancel) {
    let token = Cancel::new();
    (token.clone(), token)
}
pub use decide::{Decision, TARGET_COMPONENT, as_planned, decide, decide_all, plan};
pub use error::{ErrorClass, StepError, TRANSIENT_MARKERS, classify_text};
pub use events::{Answer, AutoApprove, Event, Prompter, Reporter, Silent};
pub use inventory::{Inventory, LedgerInventory};
pub use poll::Poller;
pub use retry::{FullJitter, RetryPolicy};
pub use run::{Engine, Outcome, Selection, StepResult};
pub use step::{Live, Step, StepContext};

#[cfg(test)]
mod tests;

//! `deploy.toml`: the checked-in configuration of a deployment.
//!
//! Every value has a default derived from `project.environment`; unknown keys are errors;
//! every error names the file, line, column, key and what is allowed.

mod error;
pub mod hub;
mod model;
mod raw;
mod resolve;
pub mod validate;

pub use error::{ConfigError, Position};
pub use hub::{
    EventType, HUB_MARKER, InputTransformer, Route, Target, TargetKind, hub_section, starter_hub,
};
pub use model::*;
pub use resolve::{FILE_NAME, Overrides, find, load, parse};
pub use validate::{ENVIRONMENT_ALLOWED, RUNTIMES};

#[cfg(test)]
mod tests;

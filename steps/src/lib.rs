//! The step engine and the deployment steps.
//!
//! `engine` knows how to run checkpointed steps (skip, retry, stale, interrupt); `deploy` and
//! `teardown` hold the steps themselves; `aws` makes the SDK clients; `env` is what every step
//! sees.

pub mod artifact;
pub mod aws;
pub mod caller;
pub mod catalog;
pub mod change;
pub mod checks;
pub mod contracts;
pub mod deploy;
pub mod discover;
pub mod dlq;
pub mod emulator;
pub mod engine;
pub mod env;
pub mod live;
pub mod outputs;
pub mod ownership;
pub mod package;
pub mod pipeline;
pub mod replay;
pub mod rollback;
pub mod teardown;
pub mod terraform;
pub mod tools;

pub use env::Env;

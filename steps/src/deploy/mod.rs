//! The deploy pipeline's steps.

pub mod contract;
pub mod iam;
pub mod iam_policy;
pub mod infrastructure;
pub mod lambdas;
pub mod preflight;
pub mod test_events;

//! How command results read, for people and for `--json`: the text each command prints, kept
//! apart from the commands (which parse, call one library operation, and print this).

pub mod artifact;
pub mod dlq;
pub mod live;
pub mod plan;
pub mod rollback;
pub mod status;
pub mod unowned;

//! What the engine tells the outside world while it works, and what it asks.

use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Event<'a> {
    Started {
        step: &'a str,
        description: &'a str,
        attempt: u32,
    },
    /// A line of progress inside a step (current resource, elapsed time...).
    Progress {
        step: &'a str,
        message: &'a str,
    },
    Warning {
        step: &'a str,
        message: &'a str,
    },
    /// A block of text a step wants the operator to read (a check table), kept on screen.
    Output {
        step: &'a str,
        text: &'a str,
    },
    Retrying {
        step: &'a str,
        attempt: u32,
        delay: Duration,
        error: &'a str,
    },
    Completed {
        step: &'a str,
        duration: Duration,
    },
    Skipped {
        step: &'a str,
        reason: &'a str,
    },
    Failed {
        step: &'a str,
        error: &'a str,
        critical: bool,
    },
    Interrupted {
        step: &'a str,
    },
}

pub trait Reporter: Send + Sync {
    fn event(&self, event: Event<'_>);
}

/// A reporter that drops everything (tests, `--quiet` JSON paths).
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _: Event<'_>) {}
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    Skip,
}

/// Asks the operator before each step when `--auto-approve` is not given.
pub trait Prompter: Send + Sync {
    fn confirm(&self, step: &str, description: &str, reason: &str) -> Answer;
}

/// `--auto-approve`.
pub struct AutoApprove;

impl Prompter for AutoApprove {
    fn confirm(&self, _: &str, _: &str, _: &str) -> Answer {
        Answer::Yes
    }
}

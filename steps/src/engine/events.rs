//! What the engine tells the outside world while it works, and what it asks.

use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Event<'a> {
    Started {
        step: &'a str,
        description: &'a str,
        attempt: u32,
        /// Why it runs (`never ran`, `inputs changed in ...`).
        reason: &'a str,
    },
    /// A line of progress inside a step (current resource, elapsed time...).
    Progress {
        step: &'a str,
        message: &'a str,
    },
    /// A resource Terraform (or the step itself) is changing: `phase` is `start`, `progress`,
    /// `complete` or `errored`.
    Resource {
        step: &'a str,
        address: &'a str,
        action: &'a str,
        phase: &'a str,
        elapsed_seconds: Option<u64>,
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
        /// The error's class (`transient`).
        class: &'a str,
    },
    Completed {
        step: &'a str,
        duration: Duration,
        attempts: u32,
        /// One line that stays in the scrollback (`16 added, 0 changed, 0 destroyed`).
        summary: Option<&'a str>,
        outputs: &'a BTreeMap<String, String>,
    },
    Skipped {
        step: &'a str,
        reason: &'a str,
    },
    Failed {
        step: &'a str,
        error: &'a str,
        critical: bool,
        duration: Duration,
        attempts: u32,
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
    /// Ctrl-C at the prompt: the run ends as interrupted.
    Interrupt,
}

/// Asks the operator before each step when `--auto-approve` is not given.
pub trait Prompter: Send + Sync {
    /// `preview`: what the step would change (Terraform's plan), shown before the question.
    fn confirm(
        &self,
        step: &str,
        description: &str,
        reason: &str,
        preview: Option<&[String]>,
    ) -> Answer;

    /// Whether the engine should compute the step's preview before asking.
    fn wants_preview(&self) -> bool {
        false
    }
}

/// `--auto-approve`.
pub struct AutoApprove;

impl Prompter for AutoApprove {
    fn confirm(&self, _: &str, _: &str, _: &str, _: Option<&[String]>) -> Answer {
        Answer::Yes
    }
}

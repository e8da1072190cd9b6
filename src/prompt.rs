//! Questions to the operator (dialoguer), only ever asked on a terminal.

use std::io::IsTerminal;

use deploy_steps::engine::{Answer, Prompter};
use dialoguer::Select;

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Asks yes / no / skip before each step.
pub struct StepPrompter;

impl Prompter for StepPrompter {
    fn confirm(&self, step: &str, description: &str, reason: &str) -> Answer {
        let choice = Select::new()
            .with_prompt(format!("Run {step} ({description}) — {reason}?"))
            .items(["yes", "no (stop here)", "skip this step"])
            .default(0)
            .interact();
        match choice {
            Ok(0) => Answer::Yes,
            Ok(2) => Answer::Skip,
            _ => Answer::No,
        }
    }
}

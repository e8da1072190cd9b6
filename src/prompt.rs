//! Questions to the operator (dialoguer), only ever asked on a terminal.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use deploy_steps::engine::{Answer, Prompter};
use dialoguer::Select;

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Asks yes / no / skip before each step.
pub struct StepPrompter;

impl Prompter for StepPrompter {
    fn confirm(
        &self,
        step: &str,
        description: &str,
        reason: &str,
        preview: Option<&[String]>,
    ) -> Answer {
        if let Some(lines) = preview {
            eprintln!("  {step} would change:");
            for l in lines {
                eprintln!("    {l}");
            }
        }
        let asking = Asking::start();
        let choice = Select::new()
            .with_prompt(format!("Run {step} ({description}) — {reason}?"))
            .items(["yes", "no (stop here)", "skip this step"])
            .default(0)
            .interact();
        drop(asking);
        match choice {
            Ok(0) => Answer::Yes,
            Ok(2) => Answer::Skip,
            Ok(_) => Answer::No,
            Err(e) if interrupted(&e) => {
                restore_terminal();
                Answer::Interrupt
            }
            Err(_) => Answer::No,
        }
    }

    fn wants_preview(&self) -> bool {
        true
    }
}

/// Whether the operator is being asked a question right now: nothing runs meanwhile, so an
/// interrupt then ends the run at once (a Ctrl-C that reaches the process as a signal, before the
/// prompt reads keys itself, would otherwise wait for an answer that never comes).
static ASKING: AtomicBool = AtomicBool::new(false);

/// Marks a question as asked while it lives.
struct Asking;

impl Asking {
    fn start() -> Asking {
        ASKING.store(true, Ordering::SeqCst);
        Asking
    }
}

impl Drop for Asking {
    fn drop(&mut self) {
        ASKING.store(false, Ordering::SeqCst);
    }
}

pub fn asking() -> bool {
    ASKING.load(Ordering::SeqCst)
}

/// Whether a prompt ended with Ctrl-C.
pub fn interrupted(e: &dialoguer::Error) -> bool {
    let dialoguer::Error::IO(io) = e;
    io.kind() == std::io::ErrorKind::Interrupted
}

/// Shows the cursor a prompt hid.
pub fn restore_terminal() {
    let _ = console::Term::stderr().show_cursor();
    let _ = console::Term::stdout().show_cursor();
}

/// Every destroy path asks for the environment name, typed, unless `--auto-approve`; without a
/// terminal to ask on, it refuses at once.
pub fn confirm_destroy(
    session: &crate::session::Session,
    auto_approve: bool,
) -> Result<(), crate::error::CliError> {
    use crate::error::{self, CliError};
    if auto_approve {
        return Ok(());
    }
    let env = &session.config.project.environment;
    crate::commands::require_terminal_or("--auto-approve")?;
    let typed: String = dialoguer::Input::new()
        .with_prompt(format!(
            "This deletes every resource deployment `{env}` owns. Type the environment name to confirm"
        ))
        .interact_text()
        .map_err(|e| {
            if interrupted(&e) {
                restore_terminal();
                CliError::new(error::INTERRUPTED, "interrupted at the prompt: nothing was deleted")
            } else {
                CliError::usage(format!("no confirmation: {e}"))
            }
        })?;
    if typed.trim() != env {
        return Err(CliError::usage(format!(
            "confirmation `{}` does not match the environment `{env}`: nothing was deleted",
            typed.trim()
        )));
    }
    Ok(())
}

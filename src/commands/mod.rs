//! One module per subcommand; each parses its arguments and calls into the library.

pub mod adopt;
pub mod all;
pub mod contracts;
pub mod destroy;
pub mod dlq;
pub mod emulator;
pub mod init;
pub mod live;
pub mod logs;
pub mod outputs;
pub mod plan;
pub mod replay;
pub mod reset;
pub mod rollback;
pub mod run;
pub mod show_plan;
pub mod state;
pub mod status;
pub mod unowned;

use crate::error::CliError;
pub use crate::run::{finish, open_run, run_pipeline};

/// Refuses at once when a prompt would be needed and nobody can answer it.
pub fn require_terminal_or(flag: &str) -> Result<(), CliError> {
    if crate::prompt::stdin_is_terminal() {
        Ok(())
    } else {
        Err(CliError::usage(format!(
            "standard input is not a terminal, so nobody can answer the confirmation prompts; \
             pass {flag} to run without them"
        )))
    }
}

/// Checks a step name given on the command line.
pub fn step_name(name: &str) -> Result<String, CliError> {
    deploy_steps::pipeline::find(name)
        .map(|(_, s)| s.name().to_string())
        .ok_or_else(|| {
            CliError::usage(format!(
                "unknown step `{name}`; steps: {}",
                deploy_steps::pipeline::names().join(", ")
            ))
        })
}

//! `deploy logs STEP`: the latest log of a step.

use crate::cli::LogsArgs;
use crate::error::{self, CliError, CliResult};
use crate::session::Session;

pub fn exec(session: &Session, args: &LogsArgs) -> CliResult {
    let step = super::step_name(&args.step)?;
    let Some(path) = deploy_state::journal::latest_step_log(&session.state_dir, &step) else {
        return Err(CliError::failed(format!(
            "step {step} has no log yet in {}",
            session.state_dir.display()
        )));
    };
    if args.path {
        let real = std::fs::canonicalize(&path).unwrap_or(path);
        session.printer.out(&real.display().to_string());
        return Ok(error::OK);
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?;
    session.printer.out(&text);
    Ok(error::OK)
}

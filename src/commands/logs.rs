//! `deploy logs STEP`: the latest log of a step, wherever the state lives.

use crate::cli::LogsArgs;
use crate::error::{self, CliError, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, args: &LogsArgs) -> CliResult {
    // The rollback's step is in no pipeline a command names, but it has a log.
    let step = match args.step.as_str() {
        deploy_steps::rollback::STEP => args.step.clone(),
        other => super::step_name(other)?,
    };
    let ledger = session.read_ledger().await?;
    let Some((location, bytes)) = ledger.step_log(&step).await? else {
        return Err(CliError::new(
            error::NOTHING_DEPLOYED,
            format!("step {step} has no log yet in {}", ledger.location()),
        ));
    };
    if args.path {
        session.printer.out(&location);
        return Ok(error::OK);
    }
    session.printer.out(&String::from_utf8_lossy(&bytes));
    Ok(error::OK)
}

//! `deploy logs STEP`: the latest log of a step, wherever the state lives.

use crate::cli::LogsArgs;
use crate::error::{self, CliError, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, args: &LogsArgs) -> CliResult {
    let step = super::step_name(&args.step)?;
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

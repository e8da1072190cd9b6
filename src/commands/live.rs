//! `deploy status --live`: every owned resource checked against AWS, concurrently.

use crate::error::{CliError, CliResult};
use crate::session::Session;
use crate::views;

pub async fn exec(session: &Session, as_json: bool) -> CliResult {
    let opened = session.open_read_live().await?;
    if let Some(code) = super::unowned::report_if_stateless(session, &opened, as_json).await? {
        return Ok(code);
    }
    let (env, ledger) = (&opened.env, &opened.ledger);
    let report = deploy_steps::live::report(env, ledger.state())
        .await
        .map_err(|e| CliError::failed(format!("cannot reach AWS: {e}")))?;
    if let Some(why) = &report.orphans_unknown {
        session
            .printer
            .warn(&format!("could not look for orphans by their tags: {why}"));
    }
    let text = if as_json {
        serde_json::to_string_pretty(&views::live::json(&report, &env.target)).expect("json")
    } else {
        views::live::text(&report, &session.config.project.environment, &env.target)
    };
    session.printer.out(&text);
    Ok(views::live::code(report.verdict))
}

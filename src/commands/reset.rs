//! `deploy reset [STEP]` and `deploy reset --rebuild`.

use deploy_state::OnCorrupt;

use crate::cli::ResetArgs;
use crate::error::{self, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, args: &ResetArgs) -> CliResult {
    // A corrupt state file is replaced only on request: reset and rebuild are that request.
    // It is kept under another name, and the rebuild reads only the audit log.
    let step = args.step.as_deref().map(super::step_name).transpose()?;
    let on_corrupt = if args.rebuild || step.is_none() {
        OnCorrupt::SetAside
    } else {
        OnCorrupt::Refuse
    };
    let command = if args.rebuild {
        "deploy reset --rebuild"
    } else {
        "deploy reset"
    };
    let mut ledger = session.lock(command, on_corrupt).await?;
    if args.rebuild {
        let skipped = ledger.rebuild_from_audit().await?;
        let n = ledger.state().steps.len();
        session.printer.info(&format!(
            "state rebuilt from the audit log: {n} step records{}",
            if skipped > 0 {
                format!(", {skipped} torn entry(ies) skipped")
            } else {
                String::new()
            }
        ));
        return Ok(error::OK);
    }
    ledger.reset(step.as_deref()).await?;
    match step {
        Some(s) => session
            .printer
            .info(&format!("step {s} reset to not_started")),
        None => session
            .printer
            .info("all step records reset (logs, inventory history and audit log kept)"),
    }
    Ok(error::OK)
}

//! `deploy reset [STEP]` and `deploy reset --rebuild`.

use crate::cli::ResetArgs;
use crate::error::{self, CliResult};
use crate::session::Session;

pub fn exec(session: &Session, args: &ResetArgs) -> CliResult {
    if args.rebuild {
        let mut ledger = session.lock("deploy reset --rebuild")?;
        let skipped = ledger.rebuild_from_audit()?;
        let n = ledger.state().steps.len();
        session.printer.info(&format!(
            "state.json rebuilt from checkpoints.log: {n} step records{}",
            if skipped > 0 {
                format!(", {skipped} torn line(s) skipped")
            } else {
                String::new()
            }
        ));
        return Ok(error::OK);
    }
    let step = args.step.as_deref().map(super::step_name).transpose()?;
    // A corrupt state file is replaced only on request: reset is that request.
    let state_file = session.state_dir.join(deploy_state::STATE_FILE);
    if step.is_none() && deploy_state::load(&session.state_dir).is_err() {
        let backup = state_file.with_extension(format!(
            "json.corrupt-{}",
            jiff::Timestamp::now().as_second()
        ));
        let _ = std::fs::rename(&state_file, &backup);
        session.printer.warn(&format!(
            "the unreadable state file was kept as {}",
            backup.display()
        ));
    }
    let mut ledger = session.lock("deploy reset")?;
    ledger.reset(step.as_deref())?;
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

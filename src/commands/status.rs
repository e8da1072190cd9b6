//! `deploy status`: the local view of the ledger (fast, no AWS calls).

use deploy_state::{LedgerState, StepStatus};
use deploy_steps::pipeline;
use serde_json::json;

use crate::cli::StatusArgs;
use crate::error::{self, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, args: &StatusArgs) -> CliResult {
    if args.live {
        return super::live::exec(session, args.json).await;
    }
    let ledger = session.read_ledger()?;
    let state = ledger.state();
    let next = next_command(state);
    let (errors, warnings) = (ledger.error_count(), ledger.warning_count());
    if args.json {
        let steps: Vec<_> = pipeline::all_steps()
            .iter()
            .map(|s| {
                let r = state.step(s.name());
                json!({
                    "name": s.name(),
                    "number": s.number(),
                    "status": r.status,
                    "started_at": r.started_at,
                    "finished_at": r.finished_at,
                    "duration_ms": r.duration_ms,
                    "attempts": r.attempts,
                    "last_error": r.last_error,
                    "note": r.note,
                    "fingerprint": r.fingerprint,
                    "outputs": r.outputs,
                })
            })
            .collect();
        let doc = json!({
            "state_dir": session.state_dir,
            "environment": session.config.project.environment,
            "steps": steps,
            "errors": errors,
            "warnings": warnings,
            "inventory": state.inventory,
            "emulator": state.emulator,
            "destroyed_at": state.destroyed_at,
            "next": next,
        });
        session
            .printer
            .out(&serde_json::to_string_pretty(&doc).expect("json"));
        return Ok(error::OK);
    }
    let mut t = format!(
        "Deployment {} ({}), ledger {}\n\n",
        session.config.project.environment,
        session.config.project.region,
        session.state_dir.display()
    );
    t.push_str(&format!(
        "  {:<15} {:<12} {:<22} {:>9} {:>8}  {}\n",
        "STEP", "STATUS", "FINISHED", "DURATION", "ATTEMPTS", "LAST ERROR"
    ));
    for s in pipeline::all_steps() {
        let r = state.step(s.name());
        let finished = r
            .finished_at
            .map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string())
            .unwrap_or_else(|| "-".into());
        let dur = r
            .duration_ms
            .map(|d| format!("{:.1}s", d as f64 / 1000.0))
            .unwrap_or_else(|| "-".into());
        let err = r
            .last_error
            .as_deref()
            .and_then(|e| e.lines().next())
            .unwrap_or("");
        t.push_str(&format!(
            "  {:<15} {:<12} {:<22} {:>9} {:>8}  {}\n",
            s.name(),
            r.status.as_str(),
            finished,
            dur,
            r.attempts,
            err
        ));
    }
    t.push_str(&format!(
        "\n  {} owned resources; {errors} errors, {warnings} warnings logged\n",
        state.inventory.len()
    ));
    if let Some(at) = state.destroyed_at {
        t.push_str(&format!("  destroyed at {at}\n"));
    }
    t.push_str(&format!("\nNext: {next}"));
    session.printer.out(&t);
    Ok(error::OK)
}

/// The command an operator most likely wants next.
pub fn next_command(state: &LedgerState) -> String {
    for s in pipeline::deploy() {
        let r = state.step(s.name());
        match r.status {
            StepStatus::Failed => {
                return format!(
                    "`deploy logs {0}` to see why {0} failed, then `deploy all` to resume",
                    s.name()
                );
            }
            StepStatus::Completed => continue,
            StepStatus::NotStarted if s.name() == "preflight" => return "`deploy all`".into(),
            _ => return format!("`deploy all` (resumes at {})", s.name()),
        }
    }
    "`deploy status --live` to check the deployed resources".into()
}

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
    if args.all {
        return all(session, args.json).await;
    }
    let ledger = session.read_ledger().await?;
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
                    "api_retries": r.api_retries,
                    "last_error": r.last_error,
                    "note": r.note,
                    "fingerprint": r.fingerprint,
                    "outputs": r.outputs,
                })
            })
            .collect();
        let doc = json!({
            "deployment": state.identity.clone().unwrap_or_else(|| session.identity.clone()),
            "state": ledger.location(),
            "environment": session.config.project.environment,
            "steps": steps,
            "errors": errors,
            "warnings": warnings,
            "inventory": state.inventory,
            "emulator": session.emulator_record(),
            "destroyed_at": state.destroyed_at,
            "destroyed_by": state.destroyed_by,
            "updated_at": state.updated_at,
            "updated_by": state.updated_by,
            "next": next,
        });
        session
            .printer
            .out(&serde_json::to_string_pretty(&doc).expect("json"));
        return Ok(error::OK);
    }
    let shown = state
        .identity
        .clone()
        .unwrap_or_else(|| session.identity.clone());
    let mut t = format!("Deployment {shown}, state {}\n\n", ledger.location());
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
        t.push_str(&format!(
            "  destroyed at {at}{}\n",
            state
                .destroyed_by
                .as_ref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default()
        ));
    } else if ledger.is_empty().await {
        t.push_str("  no state here for this deployment (`deploy status --live` looks in AWS)\n");
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

/// `deploy status --all`: every deployment the configured state holds, one line each.
async fn all(session: &Session, as_json: bool) -> CliResult {
    let listed = crate::store::deployments(session).await?;
    let rows: Vec<serde_json::Value> = listed
        .iter()
        .map(|l| match &l.state {
            Ok(s) => json!({
                "state": l.location,
                "deployment": s.identity,
                "summary": summary(s),
                "updated_at": s.updated_at,
                "destroyed_at": s.destroyed_at,
                "resources": s.inventory.len(),
            }),
            Err(e) => json!({"state": l.location, "error": e.to_string()}),
        })
        .collect();
    if as_json {
        session
            .printer
            .out(&serde_json::to_string_pretty(&rows).expect("json"));
        return Ok(error::OK);
    }
    if listed.is_empty() {
        session.printer.out("No deployment has state here.");
        return Ok(error::OK);
    }
    let mut t = String::new();
    for l in &listed {
        let line = match &l.state {
            Ok(s) => format!(
                "{:<45} {:<40} {}",
                s.identity
                    .as_ref()
                    .map_or_else(|| "(unnamed)".to_string(), ToString::to_string),
                summary(s),
                l.location
            ),
            Err(e) => format!("{:<45} {:<40} {}", "(unreadable)", e, l.location),
        };
        t.push_str(line.trim_end());
        t.push('\n');
    }
    session.printer.out(t.trim_end());
    Ok(error::OK)
}

/// One phrase for a deployment's ledger: destroyed, failed at a step, deployed, or partial.
fn summary(s: &LedgerState) -> String {
    if let Some(at) = s.destroyed_at {
        return format!("destroyed {}", at.round(jiff::Unit::Second).unwrap_or(at));
    }
    let steps = pipeline::deploy();
    if let Some(f) = steps
        .iter()
        .find(|st| s.step(st.name()).status == StepStatus::Failed)
    {
        return format!("failed at {}", f.name());
    }
    let done = steps
        .iter()
        .filter(|st| s.step(st.name()).status == StepStatus::Completed)
        .count();
    format!(
        "{done}/{} steps completed, {} resources",
        steps.len(),
        s.inventory.len()
    )
}

//! `deploy status` and `deploy status --all`: the ledger as a table, or as JSON.

use deploy_state::{DeploymentId, Ledger, LedgerState};
use deploy_steps::pipeline;
use serde_json::{Value, json};

use crate::store::Listed;

/// What `status` shows besides the ledger itself.
pub struct Shown<'a> {
    pub ledger: &'a Ledger,
    /// The deployment as this checkout names it (shown when the ledger records none).
    pub deployment: DeploymentId,
    pub environment: &'a str,
    pub emulator: Value,
    /// Whether nothing is stored for this deployment here.
    pub empty: bool,
}

pub fn json(s: &Shown<'_>) -> Value {
    let state = s.ledger.state();
    let steps: Vec<_> = pipeline::all_steps()
        .iter()
        .map(|step| {
            let r = state.step(step.name());
            json!({
                "name": step.name(),
                "number": step.number(),
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
    json!({
        "deployment": state.identity.clone().unwrap_or_else(|| s.deployment.clone()),
        "state": s.ledger.location(),
        "environment": s.environment,
        "steps": steps,
        "errors": s.ledger.error_count(),
        "warnings": s.ledger.warning_count(),
        "inventory": state.inventory,
        "emulator": s.emulator,
        "destroyed_at": state.destroyed_at,
        "destroyed_by": state.destroyed_by,
        "updated_at": state.updated_at,
        "updated_by": state.updated_by,
        "next": pipeline::next_command(state),
    })
}

pub fn text(s: &Shown<'_>) -> String {
    let state = s.ledger.state();
    let shown = state
        .identity
        .clone()
        .unwrap_or_else(|| s.deployment.clone());
    let mut t = format!("Deployment {shown}, state {}\n\n", s.ledger.location());
    t.push_str(&row(
        "STEP",
        "STATUS",
        "FINISHED",
        "DURATION",
        "ATTEMPTS",
        "LAST ERROR",
    ));
    for step in pipeline::all_steps() {
        let r = state.step(step.name());
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
        let attempts = r.attempts.to_string();
        t.push_str(&row(
            step.name(),
            r.status.as_str(),
            &finished,
            &dur,
            &attempts,
            err,
        ));
    }
    t.push_str(&format!(
        "\n  {} owned resources; {} errors, {} warnings logged\n",
        state.inventory.len(),
        s.ledger.error_count(),
        s.ledger.warning_count()
    ));
    t.push_str(&destroyed_or_empty(state, s.empty));
    t.push_str(&format!("\nNext: {}", pipeline::next_command(state)));
    t
}

fn row(step: &str, status: &str, finished: &str, dur: &str, attempts: &str, err: &str) -> String {
    format!("  {step:<15} {status:<12} {finished:<22} {dur:>9} {attempts:>8}  {err}\n")
}

fn destroyed_or_empty(state: &LedgerState, empty: bool) -> String {
    match state.destroyed_at {
        Some(at) => format!(
            "  destroyed at {at}{}\n",
            state
                .destroyed_by
                .as_ref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default()
        ),
        None if empty => {
            "  no state here for this deployment (`deploy status --live` looks in AWS)\n".into()
        }
        None => String::new(),
    }
}

/// `status --all --json`: one object per deployment.
pub fn all_json(listed: &[Listed]) -> Value {
    let rows: Vec<Value> = listed
        .iter()
        .map(|l| match &l.state {
            Ok(s) => json!({
                "state": l.location,
                "deployment": s.identity,
                "summary": pipeline::summary(s),
                "updated_at": s.updated_at,
                "destroyed_at": s.destroyed_at,
                "resources": s.inventory.len(),
            }),
            Err(e) => json!({"state": l.location, "error": e.to_string()}),
        })
        .collect();
    json!(rows)
}

/// `status --all`: one line per deployment.
pub fn all_text(listed: &[Listed]) -> String {
    if listed.is_empty() {
        return "No deployment has state here.".into();
    }
    let mut t = String::new();
    for l in listed {
        let line = match &l.state {
            Ok(s) => format!(
                "{:<45} {:<40} {}",
                s.identity
                    .as_ref()
                    .map_or_else(|| "(unnamed)".to_string(), ToString::to_string),
                pipeline::summary(s),
                l.location
            ),
            Err(e) => format!("{:<45} {:<40} {}", "(unreadable)", e, l.location),
        };
        t.push_str(line.trim_end());
        t.push('\n');
    }
    t.trim_end().to_string()
}

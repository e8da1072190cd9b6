//! What `deploy all` and `deploy rollback` do about the last good deployment: record it after a
//! verified run, and return to it (a rollback pipeline run under the same lock) when a
//! verification failed or the operator asks.

use deploy_steps::engine::{AutoApprove, Selection};
use deploy_steps::pipeline;
use deploy_steps::rollback::{Done, LastGood, Pending, Why};

use crate::error::{self, CliError};
use crate::run::Run;
use crate::session::Session;

/// After a `deploy all` whose verification passed: the deployment becomes the last good one,
/// and versions older than the one before it are removed. A failure here is a warning (the run
/// did deploy; the next successful one records it again).
pub async fn record_last_good(session: &Session, run: &Run) {
    let (env, ledger) = (&run.opened.env, &run.opened.ledger);
    if !deploy_steps::rollback::verified(ledger.state()) {
        return;
    }
    match deploy_steps::rollback::record(env, ledger).await {
        Ok(r) => {
            session.printer.verbose(
                "recorded as the last good deployment (a failed verification returns to it)",
            );
            if !r.pruned.is_empty() {
                session
                    .printer
                    .info(&format!("removed old versions: {}", r.pruned.join(", ")));
            }
            for w in r.warnings {
                session.printer.warn(&w);
            }
        }
        Err(e) => session.printer.warn(&format!(
            "the last good deployment was not recorded: {e}; a failed verification rolls back to \
             the one recorded before"
        )),
    }
}

/// A rollback's result for the command that ran it.
pub enum RolledBack {
    /// Restored and verified: what it did.
    Done(deploy_steps::rollback::Done),
    /// It did not finish (a step failed, or the run was interrupted): this exit code, with the
    /// pending document left for the next run to finish.
    Unfinished(u8),
}

/// Reads the pending rollback, if a run was killed during one.
pub async fn pending(run: &Run) -> Option<Pending> {
    Pending::load(run.opened.env.state.as_deref()?).await
}

/// The last good deployment recorded, if any.
pub async fn last_good(run: &Run) -> Option<LastGood> {
    LastGood::load(run.opened.env.state.as_deref()?).await
}

/// The checks `test-events` recorded as failed (`route a -> lambda f: ...`).
pub async fn failed_checks(run: &Run) -> Vec<String> {
    let Some(objects) = run.opened.env.state.as_deref() else {
        return Vec::new();
    };
    let Ok(Some(read)) = objects.read(deploy_state::RESULTS_FILE).await else {
        return Vec::new();
    };
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&read.bytes) else {
        return Vec::new();
    };
    doc["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["passed"] == false)
        .map(|c| {
            format!(
                "{}: {}",
                c["name"].as_str().unwrap_or("?"),
                c["detail"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// Decides a rollback (the pending document written first) and runs it.
pub async fn start(
    session: &Session,
    run: &mut Run,
    by: &str,
    why: Why,
    target: LastGood,
) -> Result<RolledBack, CliError> {
    let pending = Pending::new(by, why, target, run.opened.ledger.state());
    pending
        .save(&run.opened.ledger)
        .await
        .map_err(CliError::failed)?;
    finish(session, run, &pending).await
}

/// Runs the rollback `pending` names to its end: restored, verified, concluded.
pub async fn finish(
    session: &Session,
    run: &mut Run,
    pending: &Pending,
) -> Result<RolledBack, CliError> {
    let printer = &session.printer;
    printer.warn(&format!(
        "rolling back to the last good deployment {} ({})",
        pending.target.describe(),
        pending.why.describe()
    ));
    if let Some(j) = printer.json() {
        j.emit("rollback", event("started", pending, None));
    }
    let config = run.opened.env.config.clone();
    run.opened.env.config = deploy_steps::rollback::verification_config(&config, &pending.target);
    let selection = Selection {
        force: true,
        ..Selection::default()
    };
    let steps = pipeline::rollback();
    let outcome = crate::run::run_pipeline(session, run, &steps, &selection, &AutoApprove).await;
    run.opened.env.config = config;
    let code = crate::run::finish(session, &outcome?)?;
    if code != error::OK {
        let code = if code == error::INTERRUPTED {
            code
        } else {
            error::STEP_FAILED
        };
        printer.error(
            "the rollback did not finish: the hub is between the failed change and the last good \
             deployment; `deploy rollback` (or `deploy all`) finishes it",
        );
        if let Some(j) = printer.json() {
            j.emit("rollback", event("failed", pending, None));
        }
        return Ok(RolledBack::Unfinished(code));
    }
    let done = deploy_steps::rollback::conclude(&mut run.opened.ledger, pending)
        .await
        .map_err(CliError::failed)?;
    printer.info(&format!("rolled back: {}", done.describe()));
    if let Some(j) = printer.json() {
        j.emit("rollback", event("finished", pending, Some(&done)));
    }
    Ok(RolledBack::Done(done))
}

/// The `rollback` object of the `--json` stream.
fn event(phase: &str, pending: &Pending, done: Option<&Done>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "phase": phase,
        "reason": pending.why.describe(),
        "failed_checks": pending.why.failed_checks(),
        "last_good": pending.target.recorded_at.to_string(),
        "aliases": pending.moved_aliases(),
    });
    if let Some(d) = done {
        v["removed"] = serde_json::json!(d.removed);
        v["terraform"] = serde_json::json!(d.terraform);
    }
    v
}

/// The exit of a `deploy all` that rolled back: 11, naming the checks that failed.
pub fn rolled_back_error(done: &Done) -> CliError {
    let failed = done.why.failed_checks();
    let what = if failed.is_empty() {
        "the verification of the change failed".to_string()
    } else {
        format!(
            "the verification of the change failed: {}",
            failed.join("; ")
        )
    };
    CliError::new(
        error::ROLLED_BACK,
        format!(
            "rolled back: {what}. The last good deployment is live again and verified; fix the \
             change and run `deploy all` again (`--no-rollback` keeps a failed change for \
             debugging)"
        ),
    )
}

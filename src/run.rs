//! A command's run of a pipeline: the deployment opened and locked, the engine run with
//! Ctrl-C / SIGTERM recorded as `interrupted`, and the outcome turned into an exit code.

use std::sync::Arc;

use deploy_steps::engine::{CancelHandle, Engine, Outcome, Prompter, Selection, Step, cancel_pair};

use crate::error::{self, CliError, CliResult};
use crate::session::{Opened, Session};

/// A deployment opened for a run: its ledger locked, its environment ready, and the handle
/// that a signal uses to interrupt it.
pub struct Run {
    pub opened: Opened,
    /// What a signal cancels (every pipeline the run runs: a rollback after the deploy).
    handle: CancelHandle,
    /// `deploy all`, `deploy destroy`...
    command: String,
    /// A `rollback` object the `--json` stream announces after `run_started` (`deploy all`: the
    /// run may roll back).
    pub announce: Option<serde_json::Value>,
}

pub async fn open_run(session: &Session, command: &str) -> Result<Run, CliError> {
    let (handle, cancel) = cancel_pair();
    let opened = session.open(command, cancel).await?;
    Ok(Run {
        opened,
        handle,
        command: command.to_string(),
        announce: None,
    })
}

/// Runs `steps` under the lock `run` holds, with Ctrl-C / SIGTERM recorded as `interrupted`.
pub async fn run_pipeline(
    session: &Session,
    run: &mut Run,
    steps: &[Arc<dyn Step>],
    selection: &Selection,
    prompter: &dyn Prompter,
) -> Result<Outcome, CliError> {
    let handle = run.handle.clone();
    let Opened { env, ledger } = &mut run.opened;
    // The `--json` stream announces the plan first; the engine then uses the same decisions
    // instead of checking every step's resources a second time.
    let mut decided = Vec::new();
    if let Some(j) = session.printer.json() {
        decided = deploy_steps::engine::decide_all(steps, env, ledger.state()).await;
        let planned: Vec<serde_json::Value> =
            deploy_steps::engine::as_planned(decided.clone(), ledger.state())
                .into_iter()
                .map(
                    |(name, d)| serde_json::json!({"step": name, "run": d.run, "reason": d.reason}),
                )
                .collect();
        let deployment = serde_json::to_value(
            ledger
                .state()
                .identity
                .clone()
                .unwrap_or_else(|| session.identity.clone()),
        )
        .expect("json");
        j.run_started(&run.command, &deployment, planned);
        if let Some(a) = run.announce.take() {
            j.emit("rollback", a);
        }
    }
    let signals = tokio::spawn(async move {
        wait_for_signal().await;
        if crate::prompt::asking() {
            // Between steps, waiting on the operator: nothing to stop gracefully.
            crate::prompt::restore_terminal();
            eprintln!(
                "\ninterrupted at a question: nothing was running; run the same command again to resume"
            );
            std::process::exit(i32::from(error::INTERRUPTED));
        }
        handle.cancel();
        // A second signal means "now".
        wait_for_signal().await;
        std::process::exit(i32::from(error::INTERRUPTED));
    });
    let outcome = Engine::new(env, ledger, session.printer.as_ref(), prompter)
        .with_decisions(decided)
        .run(steps, selection)
        .await;
    signals.abort();
    Ok(outcome)
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// The exit code for an outcome, after a one-line summary.
pub fn finish(session: &Session, outcome: &Outcome) -> CliResult {
    if outcome.interrupted {
        session
            .printer
            .error("interrupted: the ledger records where it stopped; run the same command again to resume");
        return Ok(error::INTERRUPTED);
    }
    if !outcome.needs_consent.is_empty() {
        session.printer.error(&format!(
            "stopped: {} would delete a queue that holds messages; nothing of that phase was \
             deleted (see `deploy logs {}`)",
            outcome.needs_consent.join(", "),
            outcome.needs_consent[0]
        ));
        return Ok(error::QUEUE_NOT_EMPTY);
    }
    if !outcome.failed.is_empty() {
        session.printer.error(&format!(
            "failed: {} (see `deploy logs {}`)",
            outcome.failed.join(", "),
            outcome.failed[0]
        ));
        return Ok(error::STEP_FAILED);
    }
    if outcome.stopped {
        session.printer.info("stopped at the operator's request");
        return Ok(error::OK);
    }
    if !outcome.ran_anything() && !outcome.results.is_empty() {
        session
            .printer
            .info("nothing to do: every step is up to date");
    }
    Ok(error::OK)
}

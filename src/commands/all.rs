//! `deploy all`: the deploy pipeline, resumable.

use std::sync::Arc;

use deploy_steps::engine::{AutoApprove, Prompter, Selection, Step};
use deploy_steps::pipeline;

use crate::cli::AllArgs;
use crate::error::{CliError, CliResult, STEP_FAILED};
use crate::prompt::StepPrompter;
use crate::rollback::{self, RolledBack};
use crate::run::Run;
use crate::session::Session;

pub async fn exec(session: &Session, args: &AllArgs) -> CliResult {
    if !args.auto_approve {
        super::require_terminal_or("--auto-approve")?;
    }
    let steps = pipeline::deploy();
    let selection = selection(args, &steps)?;
    let reviewed = args
        .plan
        .as_deref()
        .map(crate::reviewed::read)
        .transpose()?;
    let mut run = super::open_run(session, "deploy all").await?;
    run.opened.env.consent = args.change.consent(!args.auto_approve);
    // A rollback a killed run left is finished before anything else.
    if let Some(pending) = rollback::pending(&run).await {
        session.printer.warn(&format!(
            "a rollback did not finish ({}): finishing it before anything else",
            pending.why.describe()
        ));
        return match rollback::finish(session, &mut run, &pending).await? {
            RolledBack::Done(done) => Err(rollback::rolled_back_error(&done)),
            RolledBack::Unfinished(code) => Ok(code),
        };
    }
    // A stale plan is refused first, whatever else would stop the run: what to do about it is
    // to plan again, and that plan meets every other check.
    if let (Some(path), Some(a)) = (&args.plan, &reviewed) {
        crate::reviewed::check(session, &mut run, path, a).await?;
    }
    super::contracts::gate(session, run.opened.ledger.state())?;
    warn_of_siblings(session).await;
    if args.fresh_start {
        run.opened.ledger.reset(None).await?;
        session
            .printer
            .info("fresh start: step records cleared (audit log kept)");
    }
    let prompter: &dyn Prompter = if args.auto_approve {
        &AutoApprove
    } else {
        &StepPrompter
    };
    if session.printer.json().is_some()
        && !args.no_rollback
        && let Some(good) = rollback::last_good(&run).await
    {
        run.announce = Some(serde_json::json!({"phase": "possible",
            "last_good": good.recorded_at.to_string(),
            "reason": "should test-events fail, the run returns to the last good deployment"}));
    }
    let outcome = super::run_pipeline(session, &mut run, &steps, &selection, prompter).await?;
    let code = super::finish(session, &outcome)?;
    // Every run moves the state's serial, even one that changed nothing: a plan made before it
    // no longer holds.
    run.opened.ledger.note_run("deploy all").await?;
    if code == crate::error::STEP_FAILED && outcome.failed.iter().any(|f| f == "test-events") {
        return failed_verification(session, &mut run, args.no_rollback).await;
    }
    if let Some(a) = reviewed.as_ref().filter(|_| code == crate::error::OK) {
        run.opened.ledger.note_plan_applied(&a.id()).await?;
    }
    if code == crate::error::OK {
        shipped(session, &mut run, args).await?;
    }
    Ok(code)
}

/// The change failed its verification: back to the last good deployment (exit 11 naming the
/// checks), unless `--no-rollback` or none is recorded (exit 1, the failed change stays).
async fn failed_verification(session: &Session, run: &mut Run, no_rollback: bool) -> CliResult {
    let printer = &session.printer;
    if no_rollback {
        printer.warn(
            "--no-rollback: the failed change stays deployed; `deploy status --live` shows what \
             is wrong, `deploy rollback` returns to the last good deployment",
        );
        return Ok(STEP_FAILED);
    }
    let Some(target) = rollback::last_good(run).await else {
        printer.warn(
            "no last good deployment is recorded (none passed its verification yet): nothing to \
             roll back to; the failed change stays deployed",
        );
        return Ok(STEP_FAILED);
    };
    let why = deploy_steps::rollback::Why::Verification {
        failed: rollback::failed_checks(run).await,
    };
    match rollback::start(session, run, "deploy all", why, target).await? {
        RolledBack::Done(done) => Err(rollback::rolled_back_error(&done)),
        RolledBack::Unfinished(code) => Ok(code),
    }
}

/// The steps `--from`, `--only` and `--skip-preflight` select (deploy steps only).
fn selection(args: &AllArgs, steps: &[Arc<dyn Step>]) -> Result<Selection, CliError> {
    let check = |name: &Option<String>| -> Result<Option<String>, CliError> {
        let Some(n) = name else { return Ok(None) };
        let n = super::step_name(n)?;
        if !steps.iter().any(|s| s.name() == n) {
            return Err(CliError::usage(format!(
                "`{n}` is a teardown step; use `deploy destroy`"
            )));
        }
        Ok(Some(n))
    };
    Ok(Selection {
        from: check(&args.from)?,
        only: check(&args.only)?,
        force: false,
        skip: if args.skip_preflight {
            vec!["preflight".into()]
        } else {
            vec![]
        },
    })
}

/// Another region (or account) holding a deployment of the same project and environment.
async fn warn_of_siblings(session: &Session) {
    for (other, location) in crate::store::siblings(session).await {
        session.printer.warn(&format!(
            "a deployment of {}/{} also exists in {}{} (state {location}); this run deploys {} \
             separately. To move it instead, destroy the other one first (DEPLOY_REGION={} \
             deploy destroy)",
            other.project,
            other.environment,
            other.region,
            other
                .account
                .as_ref()
                .map(|a| format!(", account {a}"))
                .unwrap_or_default(),
            session.identity,
            other.region,
        ));
    }
}

/// A run that passed: its contract versions shipped, the last good deployment recorded, the
/// outputs written where asked.
async fn shipped(session: &Session, run: &mut Run, args: &AllArgs) -> Result<(), CliError> {
    // Every version on disk has now shipped: from here on it is immutable.
    let shipped = deploy_steps::contracts::to_ship(&session.config);
    run.opened.ledger.ship_contracts(&shipped).await?;
    crate::rollback::record_last_good(session, run).await;
    let outputs = super::outputs::collect(run.opened.ledger.state());
    if let Some(path) = &args.outputs_file {
        super::outputs::write_file(path, &outputs)?;
    }
    if let Some(g) = session.printer.github() {
        let flat: Vec<(String, String)> = outputs
            .iter()
            .map(|(k, v)| (k.clone(), super::outputs::raw(v)))
            .collect();
        g.write_outputs(&flat);
    }
    Ok(())
}

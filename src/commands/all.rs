//! `deploy all`: the deploy pipeline, resumable.

use deploy_steps::engine::{AutoApprove, Prompter, Selection};
use deploy_steps::pipeline;

use crate::cli::AllArgs;
use crate::error::{CliError, CliResult};
use crate::prompt::StepPrompter;
use crate::session::Session;

pub async fn exec(session: &Session, args: &AllArgs) -> CliResult {
    if !args.auto_approve {
        super::require_terminal_or("--auto-approve")?;
    }
    let steps = pipeline::deploy();
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
    let selection = Selection {
        from: check(&args.from)?,
        only: check(&args.only)?,
        force: false,
        skip: if args.skip_preflight {
            vec!["preflight".into()]
        } else {
            vec![]
        },
    };
    let reviewed = args
        .plan
        .as_deref()
        .map(crate::reviewed::read)
        .transpose()?;
    let mut run = super::open_run(session, "deploy all").await?;
    run.opened.env.consent = args.change.consent(!args.auto_approve);
    // A stale plan is refused first, whatever else would stop the run: what to do about it is
    // to plan again, and that plan meets every other check.
    if let (Some(path), Some(a)) = (&args.plan, &reviewed) {
        crate::reviewed::check(session, &mut run, path, a).await?;
    }
    super::contracts::gate(session, run.opened.ledger.state())?;
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
    let outcome = super::run_pipeline(session, &mut run, &steps, &selection, prompter).await?;
    let code = super::finish(session, &outcome)?;
    // Every run moves the state's serial, even one that changed nothing: a plan made before it
    // no longer holds.
    run.opened.ledger.note_run("deploy all").await?;
    if let Some(a) = reviewed.as_ref().filter(|_| code == crate::error::OK) {
        run.opened.ledger.note_plan_applied(&a.id()).await?;
    }
    if code == crate::error::OK {
        // Every version on disk has now shipped: from here on it is immutable.
        let shipped = deploy_steps::contracts::to_ship(&session.config);
        run.opened.ledger.ship_contracts(&shipped).await?;
        crate::rollback::record_last_good(session, &run).await;
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
    }
    Ok(code)
}

//! `deploy destroy`: the teardown pipeline (pre-destroy, destroy), or `--discover`: what carries
//! this deployment's tags.

use deploy_steps::discover::{self, WithoutState};
use deploy_steps::engine::{AutoApprove, Selection};
use deploy_steps::{pipeline, teardown};

use crate::cli::{DestroyArgs, Phase};
use crate::error::{self, CliError, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, args: &DestroyArgs) -> CliResult {
    crate::prompt::confirm_destroy(session, args.auto_approve)?;
    if args.discover {
        return by_discovery(session, args).await;
    }
    let mut run = super::open_run(session, "deploy destroy").await?;
    run.opened.env.consent = args.queues.consent();
    let opened = &run.opened;
    match super::unowned::look(session, opened).await? {
        Some(WithoutState::Named(found)) => {
            return Ok(super::unowned::report(session, opened, &found, false));
        }
        Some(WithoutState::Nothing { checked }) => {
            session.printer.info(&format!(
                "nothing to do: no state for {} at {}, and none of its {checked} resource names \
                 exist ({})",
                session.identity,
                opened.ledger.location(),
                opened.env.target
            ));
            return Ok(error::OK);
        }
        None => {}
    }
    if let Some(why) = teardown::nothing_to_destroy(&opened.ledger).await? {
        session.printer.info(&format!("nothing to do: {why}"));
        return Ok(error::OK);
    }
    let only = args.phase.map(|p| match p {
        Phase::Pre => "pre-destroy".to_string(),
        Phase::Infra => "destroy".to_string(),
    });
    let selection = Selection {
        only,
        ..Selection::default()
    };
    let steps = pipeline::teardown();
    let outcome = super::run_pipeline(session, &mut run, &steps, &selection, &AutoApprove).await?;
    let code = super::finish(session, &outcome)?;
    if code == error::OK && session.config.local && args.phase != Some(Phase::Pre) {
        super::emulator::stop_recorded(session)?;
    }
    Ok(code)
}

/// `destroy --discover`: what carries this deployment's tags, listed with what has its names
/// but not its tags (left alone), then removed.
async fn by_discovery(session: &Session, args: &DestroyArgs) -> CliResult {
    let mut run = super::open_run(session, "deploy destroy --discover").await?;
    run.opened.env.consent = args.queues.consent();
    let aws = run
        .opened
        .env
        .aws()
        .await
        .map_err(|e| CliError::failed(format!("cannot reach AWS: {e}")))?;
    let (ours, foreign) = discover::for_removal(aws, &session.config)
        .await
        .map_err(|e| CliError::failed(e.to_string()))?;
    for f in &foreign {
        session.printer.warn(&format!(
            "{} has this deployment's name but not its tags: left alone",
            f.label()
        ));
    }
    if ours.is_empty() && !teardown::discovery_unfinished(&run.opened.ledger) {
        session.printer.info(&format!(
            "nothing to do: nothing carries the tags of {} ({})",
            session.identity, run.opened.env.target
        ));
        return Ok(error::OK);
    }
    let force = Selection {
        force: true,
        ..Selection::default()
    };
    let steps = pipeline::discovered();
    let outcome = super::run_pipeline(session, &mut run, &steps, &force, &AutoApprove).await?;
    super::finish(session, &outcome)
}

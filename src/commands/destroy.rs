//! `deploy destroy`: the teardown pipeline (pre-destroy, destroy).

use deploy_steps::engine::{AutoApprove, Selection};
use deploy_steps::pipeline;
use dialoguer::Input;

use deploy_state::Ledger;

use super::unowned::Found;
use crate::cli::{DestroyArgs, Phase};
use crate::error::{self, CliError, CliResult};
use crate::session::Session;

/// Every destroy path asks for the environment name, typed, unless `--auto-approve`; without a
/// terminal to ask on, it refuses at once.
pub fn confirm(session: &Session, auto_approve: bool) -> Result<(), CliError> {
    if auto_approve {
        return Ok(());
    }
    let env = &session.config.project.environment;
    super::require_terminal_or("--auto-approve")?;
    let typed: String = Input::new()
        .with_prompt(format!(
            "This deletes every resource deployment `{env}` owns. Type the environment name to confirm"
        ))
        .interact_text()
        .map_err(|e| {
            if crate::prompt::interrupted(&e) {
                crate::prompt::restore_terminal();
                CliError::new(error::INTERRUPTED, "interrupted at the prompt: nothing was deleted")
            } else {
                CliError::usage(format!("no confirmation: {e}"))
            }
        })?;
    if typed.trim() != env {
        return Err(CliError::usage(format!(
            "confirmation `{}` does not match the environment `{env}`: nothing was deleted",
            typed.trim()
        )));
    }
    Ok(())
}

pub async fn exec(session: &Session, args: &DestroyArgs) -> CliResult {
    confirm(session, args.auto_approve)?;
    let only = args.phase.map(|p| match p {
        Phase::Pre => "pre-destroy".to_string(),
        Phase::Infra => "destroy".to_string(),
    });
    let selection = Selection {
        only,
        ..Selection::default()
    };
    if args.discover {
        return discover(session).await;
    }
    let mut run = super::open_run(session, "deploy destroy").await?;
    match super::unowned::look(session, &run.opened).await? {
        Found::Unowned(found) => {
            return Ok(super::unowned::report(session, &run.opened, &found, false));
        }
        Found::Nothing { checked } => {
            session.printer.info(&format!(
                "nothing to do: no state for {} at {}, and none of its {checked} resource names \
                 exist ({})",
                session.identity,
                run.opened.ledger.location(),
                run.opened.env.target
            ));
            return Ok(error::OK);
        }
        Found::HasState => {}
    }
    if let Some(why) = nothing_to_destroy(&run.opened.ledger).await? {
        session.printer.info(&format!("nothing to do: {why}"));
        return Ok(error::OK);
    }
    let outcome = super::run_pipeline(
        session,
        &mut run,
        &pipeline::teardown(),
        &selection,
        &AutoApprove,
    )
    .await?;
    let code = super::finish(session, &outcome)?;
    if code == error::OK && session.config.local && args.phase != Some(Phase::Pre) {
        super::emulator::stop_recorded(session)?;
    }
    Ok(code)
}

/// Why there is nothing to tear down, if there is nothing: no owned resource in the ledger and
/// no resource in Terraform's state.
async fn nothing_to_destroy(ledger: &Ledger) -> Result<Option<String>, CliError> {
    let state = ledger.state();
    if !state.inventory.is_empty() || ledger.terraform_resource_count().await? > 0 {
        return Ok(None);
    }
    Ok(Some(match state.destroyed_at {
        Some(at) => format!(
            "the deployment was already destroyed at {at}{}",
            state
                .destroyed_by
                .as_ref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default()
        ),
        None => "nothing is deployed".to_string(),
    }))
}

/// `destroy --discover`: what carries this deployment's tags, listed with what has its names
/// but not its tags (left alone), then removed.
async fn discover(session: &Session) -> CliResult {
    let mut run = super::open_run(session, "deploy destroy --discover").await?;
    let aws = run
        .opened
        .env
        .aws()
        .await
        .map_err(|e| CliError::failed(format!("cannot reach AWS: {e}")))?;
    let ours = deploy_steps::discover::tagged(aws, &session.config)
        .await
        .map_err(|e| CliError::failed(e.to_string()))?;
    let named = deploy_steps::ownership::named_resources(&session.config);
    let foreign: Vec<_> = deploy_steps::ownership::existing(aws, &named)
        .await
        .into_iter()
        .filter(|r| !deploy_steps::discover::in_inventory(&ours, r))
        .collect();
    for f in &foreign {
        session.printer.warn(&format!(
            "{} {} has this deployment's name but not its tags: left alone",
            f.kind, f.name
        ));
    }
    if ours.is_empty()
        && !run
            .opened
            .ledger
            .state()
            .inventory
            .iter()
            .any(|r| r.created_by == deploy_steps::teardown::discovered::STEP)
    {
        session.printer.info(&format!(
            "nothing to do: nothing carries the tags of {} ({})",
            session.identity, run.opened.env.target
        ));
        return Ok(error::OK);
    }
    let outcome = super::run_pipeline(
        session,
        &mut run,
        &pipeline::discovered(),
        &Selection {
            force: true,
            ..Selection::default()
        },
        &AutoApprove,
    )
    .await?;
    super::finish(session, &outcome)
}

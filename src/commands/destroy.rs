//! `deploy destroy`: the teardown pipeline (pre-destroy, destroy).

use deploy_steps::engine::{AutoApprove, Selection};
use deploy_steps::pipeline;
use dialoguer::Input;

use crate::cli::{DestroyArgs, Phase};
use crate::error::{self, CliError, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, args: &DestroyArgs) -> CliResult {
    let env = &session.config.project.environment;
    if !args.auto_approve {
        super::require_terminal_or("--auto-approve")?;
        let typed: String = Input::new()
            .with_prompt(format!(
                "This deletes every resource deployment `{env}` owns. Type the environment name to confirm"
            ))
            .interact_text()
            .map_err(|e| CliError::usage(format!("no confirmation: {e}")))?;
        if typed.trim() != env {
            return Err(CliError::usage(format!(
                "confirmation `{}` does not match the environment `{env}`: nothing was deleted",
                typed.trim()
            )));
        }
    }
    let only = args.phase.map(|p| match p {
        Phase::Pre => "pre-destroy".to_string(),
        Phase::Infra => "destroy".to_string(),
    });
    let selection = Selection {
        only,
        ..Selection::default()
    };
    let mut ledger = session.lock("deploy destroy")?;
    if let Some(why) = nothing_to_destroy(session, ledger.state()) {
        session.printer.info(&format!("nothing to do: {why}"));
        return Ok(error::OK);
    }
    let outcome = super::run_pipeline(
        session,
        &mut ledger,
        &pipeline::teardown(),
        &selection,
        &AutoApprove,
    )
    .await?;
    let code = super::finish(session, &outcome)?;
    if code == error::OK && session.config.local && args.phase != Some(Phase::Pre) {
        super::emulator::stop_recorded(session, &mut ledger)?;
    }
    Ok(code)
}

/// Why there is nothing to tear down, if there is nothing: no owned resource in the ledger and
/// no resource in the terraform state.
fn nothing_to_destroy(session: &Session, state: &deploy_state::LedgerState) -> Option<String> {
    if !state.inventory.is_empty() {
        return None;
    }
    let tf_state = session
        .state_dir
        .join("terraform")
        .join("terraform.tfstate");
    let tf_resources = std::fs::read(&tf_state)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["resources"].as_array().map(Vec::len))
        .unwrap_or(0);
    if tf_resources > 0 {
        return None;
    }
    Some(match state.destroyed_at {
        Some(at) => format!("the deployment was already destroyed at {at}"),
        None => "nothing is deployed".to_string(),
    })
}

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

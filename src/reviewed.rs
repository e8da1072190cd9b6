//! `deploy all --plan FILE`: the reviewed plan artifact read, and checked against the
//! deployment under the run lock; a stale one is refused (exit 10) with every difference named.

use std::path::Path;

use deploy_steps::artifact::{self, Artifact};

use crate::error::{self, CliError};
use crate::run::Run;
use crate::session::Session;

/// Reads the artifact at `path`; an unreadable or edited one is stale.
pub fn read(path: &Path) -> Result<Artifact, CliError> {
    let bytes = std::fs::read(path).map_err(|e| {
        CliError::usage(format!(
            "cannot read the plan artifact {}: {e}",
            path.display()
        ))
    })?;
    artifact::read(&bytes).map_err(|e| stale(path, &[e.to_string()]))
}

/// Refuses the plan unless it holds for the deployment `run` has open and locked; then hands
/// its saved Terraform plan to the run.
pub async fn check(
    session: &Session,
    run: &mut Run,
    path: &Path,
    reviewed: &Artifact,
) -> Result<(), CliError> {
    let mut deployment = session.identity.clone();
    deployment.account = session.account().await.ok();
    let opened = &run.opened;
    let differences =
        artifact::verify::differences(reviewed, &opened.env, &opened.ledger, &deployment)
            .await
            .map_err(CliError::failed)?;
    if !differences.is_empty() {
        return Err(stale(path, &differences));
    }
    run.opened.env.saved_plan = reviewed.tfplan.clone();
    Ok(())
}

fn stale(path: &Path, differences: &[String]) -> CliError {
    CliError::new(
        error::PLAN_STALE,
        format!(
            "the plan {} is stale; nothing was changed:\n  {}\nmake it again with `deploy plan \
             --out {}` and review it",
            path.display(),
            differences.join("\n  "),
            path.display()
        ),
    )
}

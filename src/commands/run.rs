//! `deploy run STEP`: one step, honouring the ledger unless `--force`.

use deploy_steps::engine::{AutoApprove, Selection};
use deploy_steps::pipeline;

use crate::cli::RunArgs;
use crate::error::CliResult;
use crate::session::Session;

pub async fn exec(session: &Session, args: &RunArgs) -> CliResult {
    let name = super::step_name(&args.step)?;
    let (kind, _) = pipeline::find(&name).expect("checked above");
    let steps = pipeline::steps(kind);
    let selection = Selection {
        only: Some(name.clone()),
        force: args.force,
        ..Selection::default()
    };
    let mut run = super::open_run(session, &format!("deploy run {name}")).await?;
    let outcome = super::run_pipeline(session, &mut run, &steps, &selection, &AutoApprove).await?;
    super::finish(session, &outcome)
}

//! `deploy run STEP`: one step, honouring the ledger unless `--force`.
//!
//! A teardown step is a destroy path like `deploy destroy`: it asks for the typed confirmation
//! (unless `--auto-approve`), and `run destroy` (`999`) tears down everything the deployment
//! owns, pre-destroy's part included, never leaving functions behind a removed stack.

use deploy_steps::engine::{AutoApprove, Selection};
use deploy_steps::pipeline::{self, Pipeline};

use crate::cli::{DestroyArgs, Phase, RunArgs};
use crate::error::CliResult;
use crate::session::Session;

pub async fn exec(session: &Session, args: &RunArgs) -> CliResult {
    let name = super::step_name(&args.step)?;
    let (kind, _) = pipeline::find(&name).expect("checked above");
    if kind == Pipeline::Teardown {
        let phase = (name == "pre-destroy").then_some(Phase::Pre);
        let destroy = DestroyArgs {
            auto_approve: args.auto_approve,
            phase,
            discover: false,
            json: args.json,
            queues: args.change.queues,
            _global: Default::default(),
        };
        return super::destroy::exec(session, &destroy).await;
    }
    let steps = pipeline::steps(kind);
    let selection = Selection {
        only: Some(name.clone()),
        force: args.force,
        ..Selection::default()
    };
    let mut run = super::open_run(session, &format!("deploy run {name}")).await?;
    run.opened.env.consent = args.change.consent(false);
    super::contracts::gate(session, run.opened.ledger.state())?;
    let outcome = super::run_pipeline(session, &mut run, &steps, &selection, &AutoApprove).await?;
    super::finish(session, &outcome)
}

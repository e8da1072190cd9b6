//! `deploy adopt`: a lost state rebuilt from the ownership tags. What carries this deployment's
//! tags but is not in its state is shown and, once approved, adopted: the deploy pipeline runs,
//! and every create that meets an existing resource with this deployment's tags imports it
//! (Terraform) or takes it over (functions, mappings, permissions, targets) instead of failing
//! or making a second one. The next `deploy all` then has nothing to do.

use deploy_steps::engine::{AutoApprove, Selection};
use deploy_steps::{discover, pipeline};
use dialoguer::Confirm;

use crate::cli::AdoptArgs;
use crate::error::{self, CliError, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, args: &AdoptArgs) -> CliResult {
    if !args.auto_approve {
        super::require_terminal_or("--auto-approve")?;
    }
    let mut run = super::open_run(session, "deploy adopt").await?;
    super::contracts::gate(session, run.opened.ledger.state())?;
    let aws = run
        .opened
        .env
        .aws()
        .await
        .map_err(|e| CliError::failed(format!("cannot reach AWS: {e}")))?;
    let orphans = discover::adoptable(aws, &session.config, run.opened.ledger.state())
        .await
        .map_err(|e| CliError::failed(e.to_string()))?;
    if orphans.is_empty() {
        session.printer.info(&format!(
            "nothing to adopt: no resource carries the tags of {} outside its state",
            session.identity
        ));
        return Ok(error::OK);
    }
    let mut t = format!(
        "These {} resources carry the tags of {} but are not in its state ({}):\n",
        orphans.len(),
        session.identity,
        run.opened.ledger.location()
    );
    for r in &orphans {
        t.push_str(&format!("  {}\n", r.label()));
    }
    session.printer.out(t.trim_end());
    if !args.auto_approve {
        let yes = Confirm::new()
            .with_prompt("Adopt them into this deployment's state?")
            .default(false)
            .interact()
            .map_err(|e| CliError::usage(format!("no answer: {e}")))?;
        if !yes {
            session.printer.info("nothing was adopted");
            return Ok(error::OK);
        }
    }
    let outcome = super::run_pipeline(
        session,
        &mut run,
        &pipeline::deploy(),
        &Selection::default(),
        &AutoApprove,
    )
    .await?;
    super::finish(session, &outcome)
}

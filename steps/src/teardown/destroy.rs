//! The `destroy` step: the routes' rules and queues through the API ([`super::routes`]), then
//! `terraform destroy` of the rest (classified and retried like apply), then proof
//! through the API that the stack is gone, then the IAM user policy the `iam` step put, then the
//! generated local files; the ledger is marked destroyed (the audit log keeps the history).

use std::time::Duration;

use async_trait::async_trait;
use deploy_state::{Fingerprint, LedgerState, Resource, ResourceKind, TERRAFORM_STATE};

use crate::catalog::{self, Gone};
use crate::change::queues_empty;
use crate::engine::{Poller, Step, StepContext, StepError, TARGET_COMPONENT};
use crate::env::Env;
use crate::live;
use crate::terraform::TfVars;
use crate::terraform::classify::classify;
use crate::terraform::parallelism;
use crate::terraform::prepared::Prepared;
use crate::terraform::wait_for_stopped;
use crate::terraform::workdir::PLAN_FILE;

pub struct Destroy;

/// How long deletions may take to become visible through the API.
const VERIFY_DEADLINE: Duration = Duration::from_secs(60);

/// Files the deploy steps generated that a teardown removes.
const GENERATED: &[&str] = &["terraform/terraform.tfvars.json", "terraform/tfplan"];

#[async_trait]
impl Step for Destroy {
    fn name(&self) -> &'static str {
        "destroy"
    }

    fn number(&self) -> &'static str {
        "999"
    }

    fn description(&self) -> &'static str {
        "terraform destroy, verify, remove the IAM policy and local files"
    }

    fn critical(&self) -> bool {
        true
    }

    async fn fingerprint(&self, env: &Env, _state: &LedgerState) -> Result<Fingerprint, StepError> {
        Ok(Fingerprint::new().text(TARGET_COMPONENT, &env.target))
    }

    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let queues = super::pre_destroy::owned_queues(ctx.state());
        queues_empty(ctx, &queues).await?;
        terraform_destroy(ctx).await?;
        verify_gone(ctx).await?;
        remove_user_policies(ctx).await?;
        for rel in GENERATED {
            let _ = std::fs::remove_file(ctx.env.local_dir.join(rel));
        }
        ctx.ledger_mut().mark_destroyed().await?;
        ctx.info("deployment destroyed; the audit log keeps its history");
        Ok(())
    }

    async fn cleanup_after_interrupt(&self, ctx: &mut StepContext<'_>) {
        ctx.detail("waiting for terraform to stop gracefully (it writes its state)");
        wait_for_stopped().await;
    }
}

async fn terraform_destroy(ctx: &mut StepContext<'_>) -> Result<(), StepError> {
    if ctx.ledger.terraform_resource_count().await? == 0 {
        ctx.info("no terraform state in the ledger: nothing for terraform to destroy");
        return Ok(());
    }
    let vars = TfVars::from_config(ctx.config());
    let run = Prepared::new(ctx, &vars).await?;
    run.init_if_needed(ctx).await?;
    // Most of a hub's resources are its routes': removed through the API, many at once.
    super::routes::remove(ctx, &run).await?;
    let state = ctx
        .ledger
        .document(TERRAFORM_STATE)
        .await?
        .unwrap_or_default();
    let parallelism = parallelism::for_run(ctx, parallelism::waiting_in_state(&state));
    let args = [
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-json",
        &parallelism,
    ];
    let destroy = run.exec(ctx, "destroy", &args).await?;
    if !destroy.success() {
        return Err(run.error(&classify(&destroy.combined()), "destroy", &destroy));
    }
    let _ = std::fs::remove_file(run.dir.join(PLAN_FILE));
    ctx.info(&format!(
        "terraform destroy finished in {:.1}s",
        destroy.elapsed.as_secs_f64()
    ));
    Ok(())
}

/// Polls until every resource the infrastructure step owned answers "not found".
async fn verify_gone(ctx: &mut StepContext<'_>) -> Result<(), StepError> {
    let aws = ctx.env.aws().await?.clone();
    let infra: Vec<Resource> = ctx
        .state()
        .inventory
        .iter()
        .filter(|r| r.created_by == "infrastructure")
        .cloned()
        .collect();
    let mut poll = Poller::new(VERIFY_DEADLINE);
    loop {
        let still: Vec<String> = live::check_all(&aws, &infra, &live::Applied::default())
            .await
            .into_iter()
            .filter(|h| h.exists != Some(false))
            .map(|h| h.label())
            .collect();
        if still.is_empty() {
            ctx.info(&format!("verified: {} resources gone", infra.len()));
            return ctx.forget_all(&infra).await;
        }
        ctx.detail(&format!(
            "waiting for deletion to show: {}",
            still.join(", ")
        ));
        if !poll.wait().await {
            return Err(StepError::transient(format!(
                "still present {}s after terraform destroy: {}",
                VERIFY_DEADLINE.as_secs(),
                still.join(", ")
            )));
        }
    }
}

async fn remove_user_policies(ctx: &mut StepContext<'_>) -> Result<(), StepError> {
    let aws = ctx.env.aws().await?.clone();
    let policies: Vec<Resource> = ctx
        .state()
        .resources(ResourceKind::UserPolicy)
        .cloned()
        .collect();
    for p in policies {
        let user = p.attributes.user.clone().unwrap_or_default();
        let gone = catalog::delete(&aws, &p).await?;
        ctx.info(&format!(
            "policy {} on IAM user {user} {}",
            p.name,
            match gone {
                Gone::Deleted => "removed",
                Gone::AlreadyGone => "was already gone",
            }
        ));
        ctx.forget(p.kind, &p.name).await?;
    }
    Ok(())
}

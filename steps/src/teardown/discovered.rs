//! `deploy destroy --discover`: removes a deployment whose state was lost, by its ownership
//! tags. Only what carries this deployment's tags is touched (a resource with one of its names
//! but not its tags, or tagged for another project or environment, is foreign), in the order AWS
//! enforces (the catalog's deletion order). What was found is recorded in the inventory first,
//! so an interrupted run resumes; "not found" counts as done.

use async_trait::async_trait;
use deploy_state::{Fingerprint, LedgerState, Resource};

use crate::catalog;
use crate::change::queues_empty;
use crate::discover;
use crate::engine::{Step, StepContext, StepError, TARGET_COMPONENT};
use crate::env::Env;

pub struct DestroyDiscovered;

pub const STEP: &str = "destroy-discovered";

#[async_trait]
impl Step for DestroyDiscovered {
    fn name(&self) -> &'static str {
        STEP
    }

    fn number(&self) -> &'static str {
        "-"
    }

    fn description(&self) -> &'static str {
        "remove everything tagged as this deployment's"
    }

    fn critical(&self) -> bool {
        true
    }

    async fn fingerprint(&self, env: &Env, _state: &LedgerState) -> Result<Fingerprint, StepError> {
        Ok(Fingerprint::new().text(TARGET_COMPONENT, &env.target))
    }

    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let aws = ctx.env.aws().await?.clone();
        let found = discover::tagged(&aws, ctx.config()).await?;
        for r in &found {
            if !catalog::holds(&ctx.state().inventory, r) {
                ctx.record(r.clone()).await?;
            }
        }
        // What a previous, interrupted run found and did not finish is in the inventory too.
        let mut todo: Vec<Resource> = ctx
            .state()
            .inventory
            .iter()
            .filter(|r| r.created_by == STEP)
            .cloned()
            .collect();
        catalog::deletion_order(&mut todo);
        let queues: Vec<String> = todo
            .iter()
            .filter(|r| catalog::of(r.kind).aws_type() == "AWS::SQS::Queue")
            .map(|r| r.name.clone())
            .collect();
        queues_empty(ctx, &queues).await?;
        ctx.info(&format!(
            "{} resources carry this deployment's tags: {}",
            todo.len(),
            todo.iter()
                .map(Resource::label)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let mut removed = 0;
        for r in &todo {
            let gone = catalog::delete(&aws, r).await?;
            ctx.detail(&format!("{} {}", r.label(), gone.describe()));
            removed += usize::from(gone.deleted());
            ctx.forget(r.kind, &r.name).await?;
        }
        ctx.info(&format!(
            "removed {removed} resource(s); {} were already gone",
            todo.len() - removed
        ));
        ctx.ledger_mut().mark_destroyed().await?;
        Ok(())
    }
}

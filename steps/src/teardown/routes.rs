//! The routes' own resources, removed through the API ahead of `terraform destroy`: each route's
//! rule (its targets first) and each consumer queue, many at once, then taken out of
//! Terraform's state with one `terraform state rm`. They are most of a hub's resources, and
//! Terraform would refresh each, then delete each while holding an operation slot: the AWS
//! provider polls a deleted queue until it has answered "does not exist" several times in a
//! row, and its refresh of a queue deleted behind its back retries for 20 s. A hub of 100 queue
//! routes took 13 s to destroy where the 7-route hub took 4. Terraform destroys the rest (the
//! bus, the archive, the dead-letter queue, the roles); the verification after it proves all of
//! it gone, these included.
//!
//! A hub of a few routes is left to Terraform: there one more terraform process (the
//! `state rm`, about a second) costs more than Terraform's own deletes (measured in
//! BENCHMARKS.md, "The hub at scale with queue consumers").
//!
//! Killed part way, the next run deletes again (what is gone counts as done) and removes from
//! the state only what is still in it.

use deploy_state::{Resource, ResourceKind, TERRAFORM_STATE};
use serde_json::Value;
use tokio::task::JoinSet;

use crate::catalog;
use crate::engine::{StepContext, StepError};
use crate::terraform::classify::classify;
use crate::terraform::prepared::Prepared;

/// The stack's resources of a route, by Terraform address (without the instance key).
const ROUTE_RESOURCES: &[&str] = &[
    "aws_cloudwatch_event_target.this",
    "aws_cloudwatch_event_rule.this",
    "aws_sqs_queue.consumer",
];

/// How many deletions run at once: terraform's default parallelism, a pace the EventBridge and
/// SQS control-plane quotas are used to.
const AT_ONCE: usize = 10;

/// From how many route rules and consumer queues they are removed through the API.
const THROUGH_THE_API_FROM: usize = 20;

/// Deletes the routes' rules and consumer queues this deployment owns, then removes them from
/// Terraform's state, when there are many.
pub async fn remove(ctx: &mut StepContext<'_>, run: &Prepared) -> Result<(), StepError> {
    let owned: Vec<Resource> = ctx
        .state()
        .inventory
        .iter()
        .filter(|r| r.created_by == "infrastructure")
        .filter(|r| matches!(r.kind, ResourceKind::Rule | ResourceKind::ConsumerQueue))
        .cloned()
        .collect();
    if owned.len() < THROUGH_THE_API_FROM {
        return Ok(());
    }
    let aws = ctx.env.aws().await?.clone();
    for chunk in owned.chunks(AT_ONCE) {
        let mut set = JoinSet::new();
        for r in chunk {
            let (aws, r) = (aws.clone(), r.clone());
            set.spawn(async move { catalog::delete(&aws, &r).await });
        }
        for gone in set.join_all().await {
            gone?;
        }
    }
    ctx.info(&format!(
        "deleted {} route rule(s) and consumer queue(s) through the API, {AT_ONCE} at a time",
        owned.len()
    ));
    let state = ctx
        .ledger
        .document(TERRAFORM_STATE)
        .await?
        .unwrap_or_default();
    let addresses = in_state(&state);
    if addresses.is_empty() {
        return Ok(());
    }
    let mut args = vec!["state", "rm"];
    args.extend(addresses.iter().map(String::as_str));
    let rm = run.exec(ctx, "state rm", &args).await?;
    if !rm.success() {
        return Err(run.error(&classify(&rm.combined()), "state rm", &rm));
    }
    Ok(())
}

/// Which of the route resources a Terraform state holds instances of.
fn in_state(state: &[u8]) -> Vec<String> {
    let Ok(state) = serde_json::from_slice::<Value>(state) else {
        return Vec::new();
    };
    let held: Vec<String> = state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["mode"] == "managed")
        .filter(|r| r["instances"].as_array().is_some_and(|i| !i.is_empty()))
        .filter_map(|r| Some(format!("{}.{}", r["type"].as_str()?, r["name"].as_str()?)))
        .collect();
    ROUTE_RESOURCES
        .iter()
        .filter(|a| held.iter().any(|h| h == *a))
        .map(|a| a.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_route_resources_the_state_holds_are_removed_from_it() {
        let state = br#"{"resources":[
          {"mode":"managed","type":"aws_sqs_queue","name":"dlq","instances":[{}]},
          {"mode":"managed","type":"aws_sqs_queue","name":"consumer","instances":[{},{}]},
          {"mode":"managed","type":"aws_cloudwatch_event_rule","name":"this","instances":[{}]},
          {"mode":"managed","type":"aws_cloudwatch_event_target","name":"this","instances":[]},
          {"mode":"data","type":"aws_iam_policy_document","name":"this","instances":[{}]}
        ]}"#;
        assert_eq!(
            in_state(state),
            ["aws_cloudwatch_event_rule.this", "aws_sqs_queue.consumer"]
        );
        assert!(in_state(b"not json").is_empty());
    }
}

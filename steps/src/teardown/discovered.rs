//! `deploy destroy --discover`: removes a deployment whose state was lost, by its ownership
//! tags. Only what carries this deployment's tags is touched (a resource with one of its names
//! but not its tags, or tagged for another project or environment, is foreign), in the order AWS
//! enforces: targets, mappings, functions, rules, archives, bus, queues, roles. What was found is
//! recorded in the inventory first, so an interrupted run resumes; "not found" counts as done.

use async_trait::async_trait;
use deploy_state::{Fingerprint, LedgerState, Resource};

use super::pre_destroy::tolerate;
use crate::aws::{AwsClients, sdk_error};
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
            if !discover::in_inventory(&ctx.state().inventory, r) {
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
        todo.sort_by_key(|r| order(&r.kind));
        ctx.info(&format!(
            "{} resources carry this deployment's tags: {}",
            todo.len(),
            todo.iter()
                .map(|r| format!("{} {}", r.kind, r.name))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for r in todo.iter().filter(|r| r.kind == "rule") {
            empty(&aws, r).await?;
        }
        let mut removed = 0;
        for r in &todo {
            if remove(ctx, &aws, r).await? {
                removed += 1;
            }
            ctx.forget(&r.kind, &r.name).await?;
        }
        ctx.info(&format!(
            "removed {removed} resource(s); {} were already gone",
            todo.len() - removed
        ));
        ctx.ledger_mut().mark_destroyed().await?;
        Ok(())
    }
}

/// The order AWS enforces: what uses a thing goes before it.
fn order(kind: &str) -> u8 {
    match kind {
        "event-source-mapping" => 0,
        "function" => 1,
        "log-group" => 2,
        "rule" => 3,
        "archive" => 4,
        "event-bus" => 5,
        "queue" => 6,
        "role" => 7,
        _ => 8,
    }
}

/// Removes every target of a rule (all pages).
async fn empty(aws: &AwsClients, rule: &Resource) -> Result<(), StepError> {
    let bus = rule.attributes.get("bus").cloned().unwrap_or_default();
    let ids: Vec<String> = match crate::aws::rule_targets(&aws.events, &rule.name, &bus).await {
        Ok(targets) => targets.iter().map(|t| t.id().to_string()).collect(),
        Err(e) if crate::aws::is_not_found(&e) => return Ok(()),
        Err(e) => return Err(sdk_error("events:ListTargetsByRule", e)),
    };
    for chunk in ids.chunks(10) {
        let r = aws
            .events
            .remove_targets()
            .rule(&rule.name)
            .event_bus_name(&bus)
            .set_ids(Some(chunk.to_vec()))
            .send()
            .await;
        tolerate("events:RemoveTargets", r)?;
    }
    Ok(())
}

/// Deletes one resource; `Ok(false)` when it was already gone.
async fn remove(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    r: &Resource,
) -> Result<bool, StepError> {
    let name = r.name.as_str();
    let gone = match r.kind.as_str() {
        "event-source-mapping" => tolerate(
            "lambda:DeleteEventSourceMapping",
            aws.lambda
                .delete_event_source_mapping()
                .uuid(name)
                .send()
                .await,
        )?,
        "function" => {
            let mut mappings = aws
                .lambda
                .list_event_source_mappings()
                .function_name(name)
                .into_paginator()
                .send();
            while let Some(Ok(page)) = mappings.next().await {
                for m in page.event_source_mappings() {
                    let r = aws
                        .lambda
                        .delete_event_source_mapping()
                        .uuid(m.uuid().unwrap_or_default())
                        .send()
                        .await;
                    tolerate("lambda:DeleteEventSourceMapping", r)?;
                }
            }
            tolerate(
                "lambda:DeleteFunction",
                aws.lambda
                    .delete_function()
                    .function_name(name)
                    .send()
                    .await,
            )?
        }
        "log-group" => tolerate(
            "logs:DeleteLogGroup",
            aws.logs
                .delete_log_group()
                .log_group_name(name)
                .send()
                .await,
        )?,
        "rule" => tolerate(
            "events:DeleteRule",
            aws.events
                .delete_rule()
                .name(name)
                .event_bus_name(r.attributes.get("bus").cloned().unwrap_or_default())
                .send()
                .await,
        )?,
        "archive" => tolerate(
            "events:DeleteArchive",
            aws.events.delete_archive().archive_name(name).send().await,
        )?,
        "event-bus" => tolerate(
            "events:DeleteEventBus",
            aws.events.delete_event_bus().name(name).send().await,
        )?,
        "queue" => match aws.sqs.get_queue_url().queue_name(name).send().await {
            Ok(u) => tolerate(
                "sqs:DeleteQueue",
                aws.sqs
                    .delete_queue()
                    .queue_url(u.queue_url().unwrap_or_default())
                    .send()
                    .await,
            )?,
            Err(e) if crate::aws::is_not_found(&e) => false,
            Err(e) => return Err(sdk_error("sqs:GetQueueUrl", e)),
        },
        "role" => remove_role(aws, name).await?,
        other => {
            ctx.warn(&format!(
                "{other} {name}: not a kind this tool removes; left alone"
            ))
            .await;
            false
        }
    };
    ctx.detail(&format!(
        "{} {name} {}",
        r.kind,
        if gone { "deleted" } else { "was already gone" }
    ));
    Ok(gone)
}

/// A role goes after its inline policies and attachments.
async fn remove_role(aws: &AwsClients, name: &str) -> Result<bool, StepError> {
    let inline = match aws.iam.list_role_policies().role_name(name).send().await {
        Ok(o) => o.policy_names().to_vec(),
        Err(e) if crate::aws::is_not_found(&e) => return Ok(false),
        Err(e) => return Err(sdk_error("iam:ListRolePolicies", e)),
    };
    for p in inline {
        let r = aws
            .iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(&p)
            .send()
            .await;
        tolerate("iam:DeleteRolePolicy", r)?;
    }
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| sdk_error("iam:ListAttachedRolePolicies", e))?;
    for p in attached.attached_policies() {
        let r = aws
            .iam
            .detach_role_policy()
            .role_name(name)
            .policy_arn(p.policy_arn().unwrap_or_default())
            .send()
            .await;
        tolerate("iam:DetachRolePolicy", r)?;
    }
    tolerate(
        "iam:DeleteRole",
        aws.iam.delete_role().role_name(name).send().await,
    )
}

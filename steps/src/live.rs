//! Live checks: does each owned resource still exist in AWS, and is it healthy? One call per
//! resource, all at once. Shared by `deploy status --live` and by the engine before it skips a
//! completed step.

use deploy_state::{LedgerState, Resource};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::aws::{AwsClients, error_code, is_not_found};
use crate::engine::Live;
use crate::env::Env;

#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub kind: String,
    pub name: String,
    pub created_by: String,
    /// `None` when existence could not be determined (the call failed for another reason).
    pub exists: Option<bool>,
    pub healthy: bool,
    pub detail: String,
}

fn from_result<T, E, R>(
    r: &Resource,
    result: Result<T, aws_sdk_sts::error::SdkError<E, R>>,
    healthy: impl FnOnce(&T) -> (bool, String),
) -> Health
where
    E: aws_sdk_sts::error::ProvideErrorMetadata,
{
    let mut h = Health {
        kind: r.kind.clone(),
        name: r.name.clone(),
        created_by: r.created_by.clone(),
        exists: None,
        healthy: false,
        detail: String::new(),
    };
    match result {
        Ok(v) => {
            let (ok, detail) = healthy(&v);
            h.exists = Some(true);
            h.healthy = ok;
            h.detail = detail;
        }
        Err(e) if is_not_found(&e) => {
            h.exists = Some(false);
            h.detail = "missing".into();
        }
        Err(e) => {
            h.detail = format!(
                "could not check: {}",
                error_code(&e).map_or_else(|| e.to_string(), str::to_string)
            );
        }
    }
    h
}

fn attr<'a>(r: &'a Resource, key: &str) -> &'a str {
    r.attributes
        .get(key)
        .map(String::as_str)
        .unwrap_or_default()
}

/// The bus a rule or target lives on (recorded as `bus` or `event_bus`).
fn bus(r: &Resource) -> &str {
    r.attributes
        .get("bus")
        .or_else(|| r.attributes.get("event_bus"))
        .map(String::as_str)
        .unwrap_or_default()
}

/// Checks one resource.
pub async fn check(aws: &AwsClients, r: &Resource) -> Health {
    let ok = |detail: &str| (true, detail.to_string());
    match r.kind.as_str() {
        "event-bus" => from_result(
            r,
            aws.events.describe_event_bus().name(&r.name).send().await,
            |_| ok("present"),
        ),
        "rule" | "probe-rule" => {
            let res = aws
                .events
                .describe_rule()
                .name(&r.name)
                .event_bus_name(bus(r))
                .send()
                .await;
            from_result(r, res, |o| {
                let state = o
                    .state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                (state == "ENABLED", format!("state {state}"))
            })
        }
        "target" => {
            let res = aws
                .events
                .list_targets_by_rule()
                .rule(attr(r, "rule"))
                .event_bus_name(bus(r))
                .send()
                .await;
            let mut h = from_result(r, res, |o| {
                let found = o.targets().iter().any(|t| t.id() == r.name);
                (
                    found,
                    if found {
                        "attached".into()
                    } else {
                        "missing".into()
                    },
                )
            });
            if h.exists == Some(true) && !h.healthy {
                h.exists = Some(false);
            }
            h
        }
        "queue" | "probe-queue" => {
            let url = match aws.sqs.get_queue_url().queue_name(&r.name).send().await {
                Ok(o) => o.queue_url().unwrap_or_default().to_string(),
                Err(e) => return from_result(r, Err::<(), _>(e), |_| ok("")),
            };
            let res = aws
                .sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(
                    aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
                )
                .send()
                .await;
            from_result(r, res, |o| {
                let depth = o
                    .attributes()
                    .and_then(|a| {
                        a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
                    })
                    .cloned()
                    .unwrap_or_else(|| "?".into());
                (true, format!("{depth} messages waiting"))
            })
        }
        "role" => from_result(
            r,
            aws.iam.get_role().role_name(&r.name).send().await,
            |_| ok("present"),
        ),
        "archive" => from_result(
            r,
            aws.events
                .describe_archive()
                .archive_name(&r.name)
                .send()
                .await,
            |o| {
                let state = o
                    .state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                (true, format!("state {state}"))
            },
        ),
        "function" => from_result(
            r,
            aws.lambda
                .get_function()
                .function_name(&r.name)
                .send()
                .await,
            |o| {
                let c = o.configuration();
                let state = c
                    .and_then(|c| c.state())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                let update = c
                    .and_then(|c| c.last_update_status())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                (
                    state == "Active",
                    format!("state {state}, last update {update}"),
                )
            },
        ),
        "event-source-mapping" => from_result(
            r,
            aws.lambda
                .get_event_source_mapping()
                .uuid(&r.name)
                .send()
                .await,
            |o| {
                let state = o.state().unwrap_or_default().to_string();
                (
                    state == "Enabled" || state == "Enabling",
                    format!("state {state}"),
                )
            },
        ),
        "permission" => {
            let res = aws
                .lambda
                .get_policy()
                .function_name(attr(r, "function"))
                .send()
                .await;
            let mut h = from_result(r, res, |o| {
                let found = o
                    .policy()
                    .is_some_and(|p| p.contains(&format!("\"{}\"", r.name)));
                (
                    found,
                    if found {
                        "granted".into()
                    } else {
                        "missing".into()
                    },
                )
            });
            if h.exists == Some(true) && !h.healthy {
                h.exists = Some(false);
            }
            h
        }
        "user-policy" => from_result(
            r,
            aws.iam
                .get_user_policy()
                .user_name(attr(r, "user"))
                .policy_name(&r.name)
                .send()
                .await,
            |_| ok("present"),
        ),
        _ => Health {
            kind: r.kind.clone(),
            name: r.name.clone(),
            created_by: r.created_by.clone(),
            exists: None,
            healthy: true,
            detail: "not checked".into(),
        },
    }
}

/// Checks every resource concurrently; results come back in the given order.
pub async fn check_all(aws: &AwsClients, resources: &[Resource]) -> Vec<Health> {
    let mut set = JoinSet::new();
    for (i, r) in resources.iter().cloned().enumerate() {
        let aws = aws.clone();
        set.spawn(async move { (i, check(&aws, &r).await) });
    }
    let mut out: Vec<(usize, Health)> = set.join_all().await;
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, h)| h).collect()
}

/// The live check of one step: whether what it created still exists.
pub async fn step_live(env: &Env, state: &LedgerState, step: &str) -> Live {
    let mine: Vec<Resource> = state
        .inventory
        .iter()
        .filter(|r| r.created_by == step && !r.kind.starts_with("probe-"))
        .cloned()
        .collect();
    if mine.is_empty() {
        return Live::Unknown;
    }
    let Ok(aws) = env.aws().await else {
        return Live::Unknown;
    };
    let missing: Vec<String> = check_all(aws, &mine)
        .await
        .into_iter()
        .filter(|h| h.exists == Some(false))
        .map(|h| h.name)
        .collect();
    if missing.is_empty() {
        Live::Healthy
    } else {
        Live::Missing(missing)
    }
}

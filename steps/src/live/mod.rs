//! Live checks: does each owned resource still exist in AWS, is it healthy, and does it still
//! look the way it was deployed (drift)? A few calls per resource, all at once. Shared by
//! `deploy status --live` and by the engine before it skips a completed step.
//!
//! What each check compares (all of it fast enough for `status --live`; Terraform's own
//! `plan` sees the rest when a step re-runs):
//! - rule: exists, `ENABLED`, event pattern equal (as JSON) to the applied one;
//! - target: attached to its rule; permission: the function's policy grants it;
//! - role: exists, and each inline policy Terraform applied is present and equal (as JSON);
//! - queue: exists, retention as applied; the dead-letter queue holding messages is degraded
//!   (with the depth and the oldest message's age);
//! - archive: exists, retention as applied; function: `Active`;
//! - event-source mapping: exists and enabled.

mod expected;

pub use expected::{Expected, Want, policy_document, same_json};

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
    /// For a queue: messages waiting, and the age of the oldest one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_age_seconds: Option<u64>,
    /// How it differs from what was deployed (a re-run of its step repairs it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<String>,
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
        depth: None,
        oldest_age_seconds: None,
        drift: Vec::new(),
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

/// The kinds whose ownership tags are checked.
const TAGGED: &[&str] = &["event-bus", "rule", "queue", "role", "function"];

/// Checks one resource, against what was applied and the tags it should carry.
pub async fn check(aws: &AwsClients, r: &Resource, expected: &Expected) -> Health {
    let mut h = exists_and_health(aws, r).await;
    if h.exists == Some(true) {
        h.drift = drift(aws, r, expected.get(&r.kind, &r.name), &h).await;
        if !expected.tags.is_empty()
            && TAGGED.contains(&r.kind.as_str())
            && let Some(found) = crate::ownership::tags_of(aws, r).await
            && !crate::ownership::carries(&found, &expected.tags)
        {
            h.drift
                .push(format!("{} {} lost its ownership tags", r.kind, r.name));
        }
        if !h.drift.is_empty() {
            h.healthy = false;
            h.detail = h.drift.join("; ");
        }
    }
    h
}

/// How `r` differs from `want` (and from what every deployment wants: rules enabled, mappings
/// enabled).
async fn drift(aws: &AwsClients, r: &Resource, want: Option<&Want>, h: &Health) -> Vec<String> {
    let mut out = Vec::new();
    match (r.kind.as_str(), want) {
        ("rule", want) => {
            if h.detail != "state ENABLED" {
                out.push(format!(
                    "rule {} is {}",
                    r.name,
                    h.detail.replace("state ", "")
                ));
            }
            if let Some(Want::Rule { pattern, .. }) = want {
                let live = aws
                    .events
                    .describe_rule()
                    .name(&r.name)
                    .event_bus_name(bus(r))
                    .send()
                    .await;
                if let Ok(o) = live {
                    let live: serde_json::Value = o
                        .event_pattern()
                        .and_then(|p| serde_json::from_str(p).ok())
                        .unwrap_or_default();
                    if !same_json(&live, pattern) {
                        out.push(format!("the event pattern of rule {} differs", r.name));
                    }
                }
            }
        }
        ("role", Some(Want::Role { inline })) => {
            for (policy, doc) in inline {
                let got = aws
                    .iam
                    .get_role_policy()
                    .role_name(&r.name)
                    .policy_name(policy)
                    .send()
                    .await;
                match got {
                    Ok(o) if same_json(&policy_document(o.policy_document()), doc) => {}
                    Ok(_) => out.push(format!("inline policy {policy} of role {} differs", r.name)),
                    Err(e) if is_not_found(&e) => {
                        out.push(format!(
                            "inline policy {policy} of role {} is missing",
                            r.name
                        ));
                    }
                    Err(_) => {}
                }
            }
        }
        (
            "queue" | "consumer-queue",
            Some(Want::Queue {
                retention_seconds: Some(want),
            }),
        ) => {
            if let Some(got) = queue_retention(aws, &r.name).await
                && got != *want
            {
                out.push(format!(
                    "queue {} keeps messages {got}s instead of {want}s",
                    r.name
                ));
            }
        }
        (
            "archive",
            Some(Want::Archive {
                retention_days: Some(want),
            }),
        ) => {
            let got = aws
                .events
                .describe_archive()
                .archive_name(&r.name)
                .send()
                .await
                .ok()
                .and_then(|o| o.retention_days());
            if let Some(got) = got
                && i64::from(got) != *want
            {
                out.push(format!(
                    "archive {} keeps events {got} days instead of {want}",
                    r.name
                ));
            }
        }
        ("event-source-mapping", _) if !h.healthy => {
            out.push(format!("event-source mapping {} is {}", r.name, h.detail));
        }
        _ => {}
    }
    out
}

async fn queue_retention(aws: &AwsClients, name: &str) -> Option<i64> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let url = aws.sqs.get_queue_url().queue_name(name).send().await.ok()?;
    let attrs = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url.queue_url()?)
        .attribute_names(QueueAttributeName::MessageRetentionPeriod)
        .send()
        .await
        .ok()?;
    attrs
        .attributes()?
        .get(&QueueAttributeName::MessageRetentionPeriod)?
        .parse()
        .ok()
}

/// Whether it exists, and whether it works.
async fn exists_and_health(aws: &AwsClients, r: &Resource) -> Health {
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
            let res = crate::aws::rule_targets(&aws.events, attr(r, "rule"), bus(r)).await;
            let mut h = from_result(r, res, |o| {
                let found = o.iter().any(|t| t.id() == r.name);
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
        "queue" | "probe-queue" | "consumer-queue" => queue(aws, r).await,
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
            depth: None,
            oldest_age_seconds: None,
            drift: Vec::new(),
        },
    }
}

/// A queue exists; the dead-letter queue is healthy only while it is empty: a message in it is
/// an event that was lost on its way somewhere.
async fn queue(aws: &AwsClients, r: &Resource) -> Health {
    use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
    let url = match aws.sqs.get_queue_url().queue_name(&r.name).send().await {
        Ok(o) => o.queue_url().unwrap_or_default().to_string(),
        Err(e) => return from_result(r, Err::<(), _>(e), |_| (true, String::new())),
    };
    let res = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await;
    let mut depth = None;
    let mut h = from_result(r, res, |o| {
        depth = o
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
            .and_then(|d| d.parse::<u64>().ok());
        (true, String::new())
    });
    if h.exists != Some(true) {
        return h;
    }
    let Some(n) = depth else {
        h.healthy = false;
        h.detail = "depth unknown".into();
        return h;
    };
    h.depth = Some(n);
    // Only the dead-letter queue's messages are events lost; a consumer's inbox holds work.
    if n == 0 || r.kind != "queue" {
        h.detail = format!("{n} messages waiting");
        return h;
    }
    // Peek without taking: a visibility timeout of 0 leaves the messages where they are.
    let peek = aws
        .sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
        .send()
        .await;
    let now_ms = jiff::Timestamp::now().as_millisecond();
    h.oldest_age_seconds = peek.ok().and_then(|o| {
        o.messages()
            .iter()
            .filter_map(|m| {
                m.attributes()?
                    .get(&MessageSystemAttributeName::SentTimestamp)?
                    .parse::<i64>()
                    .ok()
            })
            .min()
            .map(|sent| u64::try_from((now_ms - sent).max(0) / 1000).unwrap_or(0))
    });
    h.healthy = false;
    h.detail = format!(
        "{n} message(s) waiting{}: events are being lost",
        h.oldest_age_seconds
            .map(|a| format!(", the oldest {a}s old"))
            .unwrap_or_default()
    );
    h
}

/// Checks every resource concurrently, against `expected`; results come back in the given
/// order.
pub async fn check_all(
    aws: &AwsClients,
    resources: &[Resource],
    expected: &Expected,
) -> Vec<Health> {
    let mut set = JoinSet::new();
    for (i, r) in resources.iter().cloned().enumerate() {
        let (aws, expected) = (aws.clone(), expected.clone());
        set.spawn(async move { (i, check(&aws, &r, &expected).await) });
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
    let checked = check_all(aws, &mine, &env.expected()).await;
    let missing: Vec<String> = checked
        .iter()
        .filter(|h| h.exists == Some(false))
        .map(|h| format!("{} {}", h.kind, h.name))
        .collect();
    let drift: Vec<String> = checked.into_iter().flat_map(|h| h.drift).collect();
    if !missing.is_empty() {
        Live::Missing(missing)
    } else if !drift.is_empty() {
        Live::Drifted(drift)
    } else {
        Live::Healthy
    }
}

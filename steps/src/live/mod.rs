//! Live checks: does each owned resource still exist in AWS, is it healthy, and does it still
//! look the way it was deployed (drift)? All resources at once, each question asked once (one
//! `ListRules` per bus, one policy per function: see `lookups`). Shared by
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

mod drift;
mod expected;
mod lookups;

use drift::drift;
pub use expected::{Expected, Want, policy_document, same_json};
use lookups::{Lookups, Miss, sdk};

use std::sync::Arc;
use std::time::Duration;

use deploy_state::{LedgerState, Resource};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::aws::AwsClients;
use crate::engine::{Live, Poller};
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
    /// Existence is unknown for a reason that asking again may fix.
    #[serde(skip)]
    pub ask_again: bool,
}

fn from_result<T>(
    r: &Resource,
    result: Result<T, Miss>,
    healthy: impl FnOnce(&T) -> (bool, String),
) -> Health {
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
        ask_again: false,
    };
    match result {
        Ok(v) => {
            let (ok, detail) = healthy(&v);
            h.exists = Some(true);
            h.healthy = ok;
            h.detail = detail;
        }
        Err(Miss::NotFound) => {
            h.exists = Some(false);
            h.detail = "missing".into();
        }
        Err(Miss::Failed { why, transient }) => {
            h.detail = format!("could not check: {why}");
            h.ask_again = transient;
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
async fn check(aws: &AwsClients, r: &Resource, expected: &Expected, lookups: &Lookups) -> Health {
    let mut h = exists_and_health(aws, r, lookups).await;
    if h.exists == Some(true) {
        h.drift = drift(aws, r, expected.get(&r.kind, &r.name), &h, lookups).await;
        if !expected.tags.is_empty()
            && TAGGED.contains(&r.kind.as_str())
            && let Some(found) = tags(aws, r, lookups).await
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

/// The tags `r` carries (a rule's ARN comes from the shared `ListRules`).
async fn tags(
    aws: &AwsClients,
    r: &Resource,
    lookups: &Lookups,
) -> Option<std::collections::BTreeMap<String, String>> {
    if r.kind == "rule" {
        let arn = lookups.rule(aws, &r.name, bus(r)).await.ok()?.arn;
        return crate::ownership::event_tags(aws, Some(arn)).await;
    }
    crate::ownership::tags_of(aws, r).await
}

/// Whether it exists, and whether it works.
async fn exists_and_health(aws: &AwsClients, r: &Resource, lookups: &Lookups) -> Health {
    let ok = |detail: &str| (true, detail.to_string());
    // Whether the state is one of `good`, and the state for the detail.
    let state_in = |good: &[&str], state: Option<&str>| {
        let state = state.unwrap_or_default();
        (good.contains(&state), format!("state {state}"))
    };
    match r.kind.as_str() {
        "event-bus" => from_result(
            r,
            sdk(aws.events.describe_event_bus().name(&r.name).send().await),
            |_| ok("present"),
        ),
        "rule" | "probe-rule" => from_result(r, lookups.rule(aws, &r.name, bus(r)).await, |o| {
            state_in(&["ENABLED"], Some(&o.state))
        }),
        "target" => {
            let ids = lookups.target_ids(aws, attr(r, "rule"), bus(r)).await;
            listed(r, ids.map(|ids| ids.contains(&r.name)), "attached")
        }
        "queue" | "probe-queue" | "consumer-queue" => queue(aws, r).await,
        "role" => from_result(
            r,
            sdk(aws.iam.get_role().role_name(&r.name).send().await),
            |_| ok("present"),
        ),
        "archive" => from_result(
            r,
            sdk(aws
                .events
                .describe_archive()
                .archive_name(&r.name)
                .send()
                .await),
            // Any state: an archive that exists keeps events.
            |o| (true, state_in(&[], o.state().map(|s| s.as_str())).1),
        ),
        "function" => from_result(
            r,
            sdk(aws
                .lambda
                .get_function()
                .function_name(&r.name)
                .send()
                .await),
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
            sdk(aws
                .lambda
                .get_event_source_mapping()
                .uuid(&r.name)
                .send()
                .await),
            |o| state_in(&["Enabled", "Enabling"], o.state()),
        ),
        "permission" => {
            let policy = lookups.policy(aws, attr(r, "function")).await;
            let quoted = format!("\"{}\"", r.name);
            listed(r, policy.map(|p| p.contains(&quoted)), "granted")
        }
        "user-policy" => from_result(
            r,
            sdk(aws
                .iam
                .get_user_policy()
                .user_name(attr(r, "user"))
                .policy_name(&r.name)
                .send()
                .await),
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
            ask_again: false,
        },
    }
}

/// Something that exists only as an entry in its parent (a target in its rule's list, a
/// permission in its function's policy): `found` says whether the parent lists it.
fn listed(r: &Resource, found: Result<bool, Miss>, present: &str) -> Health {
    let mut h = from_result(r, found, |&found| {
        (found, if found { present } else { "missing" }.to_string())
    });
    if h.exists == Some(true) && !h.healthy {
        h.exists = Some(false);
    }
    h
}

/// A queue exists; the dead-letter queue is healthy only while it is empty: a message in it is
/// an event that was lost on its way somewhere.
async fn queue(aws: &AwsClients, r: &Resource) -> Health {
    use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
    let url = match aws.sqs.get_queue_url().queue_name(&r.name).send().await {
        Ok(o) => o.queue_url().unwrap_or_default().to_string(),
        Err(e) => return from_result(r, sdk(Err::<(), _>(e)), |_| (true, String::new())),
    };
    let res = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await;
    let mut depth = None;
    let mut h = from_result(r, sdk(res), |o| {
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

/// How long checks that could not be made (after the SDK's own attempts) are asked again
/// before they are reported as unknown.
const ASK_AGAIN_WITHIN: Duration = Duration::from_secs(10);

/// Checks every resource concurrently, against `expected`; results come back in the given
/// order. A check that failed in a way waiting may fix is asked again, with fresh lookups,
/// until [`ASK_AGAIN_WITHIN`]; what still cannot be checked then is unknown. When no check
/// got an answer at all (nothing listens at the endpoint, the network is down), the unknowns
/// are reported at once: asking again would only make the operator wait.
pub async fn check_all(
    aws: &AwsClients,
    resources: &[Resource],
    expected: &Expected,
) -> Vec<Health> {
    let answered = |checked: &[Health]| checked.iter().any(|h| h.exists.is_some());
    let mut out = check_each(aws, resources, expected).await;
    let mut poll = Poller::new(ASK_AGAIN_WITHIN);
    loop {
        let again: Vec<usize> = (0..out.len()).filter(|&i| out[i].ask_again).collect();
        if again.is_empty() || !answered(&out) || !poll.wait().await {
            return out;
        }
        let subset: Vec<Resource> = again.iter().map(|&i| resources[i].clone()).collect();
        for (i, h) in again
            .into_iter()
            .zip(check_each(aws, &subset, expected).await)
        {
            out[i] = h;
        }
    }
}

async fn check_each(aws: &AwsClients, resources: &[Resource], expected: &Expected) -> Vec<Health> {
    let mut set = JoinSet::new();
    let expected = Arc::new(expected.clone());
    let lookups = Arc::new(Lookups::default());
    for (i, r) in resources.iter().cloned().enumerate() {
        let (aws, expected, lookups) = (aws.clone(), expected.clone(), lookups.clone());
        set.spawn(async move { (i, check(&aws, &r, &expected, &lookups).await) });
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
    let checked = check_all(aws, &mine, &env.expected().await).await;
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

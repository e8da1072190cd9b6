//! Drift: how a resource that exists differs from what was applied (and from what every
//! deployment wants: rules and mappings enabled). Terraform's own `plan` sees the rest when a
//! step re-runs.

use deploy_state::Resource;

use super::lookups::Lookups;
use super::{Health, Want, bus, policy_document, same_json};
use crate::aws::{AwsClients, is_not_found};

/// How `r` differs from `want` (and from what every deployment wants: rules enabled, mappings
/// enabled).
pub(super) async fn drift(
    aws: &AwsClients,
    r: &Resource,
    want: Option<&Want>,
    h: &Health,
    lookups: &Lookups,
) -> Vec<String> {
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
            if let Some(Want::Rule { pattern, .. }) = want
                && let Ok(rule) = lookups.rule(aws, &r.name, bus(r)).await
            {
                let live: serde_json::Value = rule
                    .pattern
                    .and_then(|p| serde_json::from_str(&p).ok())
                    .unwrap_or_default();
                if !same_json(&live, pattern) {
                    out.push(format!("the event pattern of rule {} differs", r.name));
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

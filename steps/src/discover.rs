//! Finding a deployment by its ownership tags: what `deploy adopt`, `deploy destroy
//! --discover` and the orphan report of `status --live` and `plan` stand on.
//!
//! The Resource Groups Tagging API covers buses, rules, queues, functions, event-source mappings
//! and log groups; IAM roles are not in it on AWS, so roles are listed and their tags read
//! (concurrently, every page). Archives cannot be tagged: one is this deployment's when the bus
//! it archives is.

use std::collections::BTreeMap;

use deploy_config::Config;
use deploy_state::Resource;
use tokio::task::JoinSet;

use crate::aws::{AwsClients, sdk_error};
use crate::engine::StepError;
use crate::ownership::{carries, ownership_tags};

/// How many role tag reads run at once.
const ROLE_READS: usize = 16;

/// Every resource in the account and region that carries this deployment's tags.
pub async fn tagged(aws: &AwsClients, config: &Config) -> Result<Vec<Resource>, StepError> {
    let tags = ownership_tags(config);
    let mut found = tagged_by_api(aws, &tags).await?;
    found.extend(tagged_roles(aws, &tags).await?);
    let buses: Vec<String> = found
        .iter()
        .filter(|r| r.kind == "event-bus")
        .map(|r| r.name.clone())
        .collect();
    found.extend(archives_of(aws, &buses).await?);
    found.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
    Ok(found)
}

async fn tagged_by_api(
    aws: &AwsClients,
    tags: &BTreeMap<String, String>,
) -> Result<Vec<Resource>, StepError> {
    use aws_sdk_resourcegroupstagging::types::TagFilter;
    let mut req = aws.tagging.get_resources();
    for (k, v) in tags {
        req = req.tag_filters(TagFilter::builder().key(k).values(v).build());
    }
    let mut pages = req.into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("tag:GetResources", e))?;
        for m in page.resource_tag_mapping_list() {
            let Some(arn) = m.resource_arn() else {
                continue;
            };
            // The filter is the API's; the check is ours (an emulator may be lenient).
            let found: BTreeMap<String, String> = m
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            if carries(&found, tags)
                && let Some(r) = from_arn(arn)
            {
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// The resource an ARN names, for the kinds this deployment makes.
pub fn from_arn(arn: &str) -> Option<Resource> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (service, rest) = (*parts.get(2)?, *parts.get(5)?);
    let r = match service {
        "events" => {
            if let Some(name) = rest.strip_prefix("event-bus/") {
                Resource::new("event-bus", name, "discovery")
            } else if let Some(path) = rest.strip_prefix("rule/") {
                match path.rsplit_once('/') {
                    Some((bus, name)) => Resource::new("rule", name, "discovery").with("bus", bus),
                    None => Resource::new("rule", path, "discovery").with("bus", "default"),
                }
            } else {
                return None;
            }
        }
        "sqs" => Resource::new("queue", rest, "discovery"),
        "lambda" => {
            if let Some(name) = rest.strip_prefix("function:") {
                Resource::new("function", name.split(':').next()?, "discovery")
            } else if let Some(uuid) = rest.strip_prefix("event-source-mapping:") {
                Resource::new("event-source-mapping", uuid, "discovery")
            } else {
                return None;
            }
        }
        "logs" => Resource::new(
            "log-group",
            rest.strip_prefix("log-group:")?.trim_end_matches(":*"),
            "discovery",
        ),
        _ => return None,
    };
    Some(r.with_arn(arn))
}

async fn tagged_roles(
    aws: &AwsClients,
    tags: &BTreeMap<String, String>,
) -> Result<Vec<Resource>, StepError> {
    let mut names = Vec::new();
    let mut pages = aws.iam.list_roles().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("iam:ListRoles", e))?;
        names.extend(
            page.roles()
                .iter()
                .map(|r| (r.role_name().to_string(), r.arn().to_string())),
        );
    }
    let mut out = Vec::new();
    for chunk in names.chunks(ROLE_READS) {
        let mut set = JoinSet::new();
        for (name, arn) in chunk.iter().cloned() {
            let (iam, tags) = (aws.iam.clone(), tags.clone());
            set.spawn(async move {
                let found: BTreeMap<String, String> = iam
                    .list_role_tags()
                    .role_name(&name)
                    .send()
                    .await
                    .map(|o| {
                        o.tags()
                            .iter()
                            .map(|t| (t.key().to_string(), t.value().to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                carries(&found, &tags)
                    .then(|| Resource::new("role", &name, "discovery").with_arn(arn))
            });
        }
        out.extend(set.join_all().await.into_iter().flatten());
    }
    Ok(out)
}

async fn archives_of(aws: &AwsClients, buses: &[String]) -> Result<Vec<Resource>, StepError> {
    let mut out = Vec::new();
    for bus in buses {
        let arn = match aws.events.describe_event_bus().name(bus).send().await {
            Ok(o) => o.arn().unwrap_or_default().to_string(),
            Err(_) => continue,
        };
        let list = aws
            .events
            .list_archives()
            .event_source_arn(&arn)
            .send()
            .await
            .map_err(|e| sdk_error("events:ListArchives", e))?;
        for a in list.archives() {
            if let Some(name) = a.archive_name() {
                out.push(Resource::new("archive", name, "discovery").with("bus", bus));
            }
        }
    }
    Ok(out)
}

/// Whether the inventory records `r` (same kind and name).
pub fn in_inventory(inventory: &[Resource], r: &Resource) -> bool {
    // A route's consumer queue is a queue to the APIs.
    let kind = |k: &str| if k == "consumer-queue" { "queue" } else { k }.to_string();
    inventory
        .iter()
        .any(|o| kind(&o.kind) == kind(&r.kind) && o.name == r.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_the_resources_this_deployment_makes() {
        let k = |arn: &str| from_arn(arn).map(|r| format!("{} {}", r.kind, r.name));
        assert_eq!(
            k("arn:aws:events:us-east-1:1:event-bus/dev-bus").as_deref(),
            Some("event-bus dev-bus")
        );
        let rule = from_arn("arn:aws:events:us-east-1:1:rule/dev-bus/dev-r").unwrap();
        assert_eq!(
            (rule.name.as_str(), rule.attributes["bus"].as_str()),
            ("dev-r", "dev-bus")
        );
        assert_eq!(
            k("arn:aws:sqs:us-east-1:1:dev-dlq").as_deref(),
            Some("queue dev-dlq")
        );
        assert_eq!(
            k("arn:aws:lambda:us-east-1:1:function:dev-fn").as_deref(),
            Some("function dev-fn")
        );
        assert_eq!(
            k("arn:aws:logs:us-east-1:1:log-group:/aws/lambda/dev-fn:*").as_deref(),
            Some("log-group /aws/lambda/dev-fn")
        );
        assert_eq!(k("arn:aws:s3:::bucket"), None);
    }
}

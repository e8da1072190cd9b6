//! Resources that carry this deployment's names but that its state does not own.
//!
//! Used twice: when there is no state for a deployment, to never claim "nothing is deployed"
//! without looking; and before Terraform creates anything, because some creates take over an
//! existing resource instead of failing (SQS `CreateQueue` returns an existing queue with the
//! same attributes).

use std::collections::BTreeMap;

use deploy_config::Config;
use deploy_state::Resource;
use deploy_state::backend::Deployments;
use serde_json::Value;

use crate::aws::AwsClients;
use crate::live;

/// The tags every resource of this deployment carries (Terraform's `default_tags` and the SDK
/// creates alike): its identity, and the tool that manages it.
pub fn ownership_tags(config: &Config) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("Project".to_string(), config.project.name.clone()),
        (
            "Environment".to_string(),
            config.project.environment.clone(),
        ),
        ("Region".to_string(), config.project.region.clone()),
        ("ManagedBy".to_string(), "deploy".to_string()),
    ])
}

/// Whether `tags` include every one of `ours`, with the same values.
pub fn carries(tags: &BTreeMap<String, String>, ours: &BTreeMap<String, String>) -> bool {
    ours.iter().all(|(k, v)| tags.get(k) == Some(v))
}

/// Every resource this deployment makes, by the names its configuration gives.
pub fn named_resources(config: &Config) -> Vec<Resource> {
    let mut out = vec![Resource::new("event-bus", &config.eventbus.name, "")];
    for rule in config.rule_names() {
        out.push(Resource::new("rule", &rule, "").with("bus", &config.eventbus.name));
    }
    out.push(Resource::new("archive", &config.eventbus.archive_name, ""));
    out.push(Resource::new("queue", &config.dlq.name, ""));
    for q in config.consumer_queues() {
        out.push(Resource::new("consumer-queue", &q, ""));
    }
    for role in config.role_names() {
        out.push(Resource::new("role", &role, ""));
    }
    for l in &config.lambdas {
        out.push(Resource::new("function", &l.function_name, ""));
    }
    out
}

/// Those of `candidates` that exist, checked concurrently; `kind name` each.
pub async fn existing(aws: &AwsClients, candidates: &[Resource]) -> Vec<Resource> {
    live::check_all(aws, candidates, &live::Expected::default())
        .await
        .into_iter()
        .zip(candidates)
        .filter(|(h, _)| h.exists == Some(true))
        .map(|(_, r)| r.clone())
        .collect()
}

/// Who most likely owns `r`: a deployment whose ledger (in the same store as `backend`) lists
/// it, else nobody this tool can see.
pub async fn likely_owner(backend: &dyn Deployments, r: &Resource) -> String {
    let me = backend.location();
    let ledgers = backend.deployments().await.unwrap_or_default();
    for (location, bytes) in ledgers {
        let Ok(state) = deploy_state::parse_state(&location, &bytes) else {
            continue;
        };
        if location == me || location.trim_end_matches('/') == me.trim_end_matches('/') {
            continue;
        }
        let owns = state
            .inventory
            .iter()
            .any(|o| o.kind == r.kind && o.name == r.name);
        if owns {
            let who = state.identity.map_or_else(
                || "an unnamed deployment".to_string(),
                |id| format!("deployment {id}"),
            );
            return format!("{who}, state {location}");
        }
    }
    "owner unknown: no state this tool can see records it (another project's state, or made \
     by hand)"
        .into()
}

/// The tags `r` carries, for the kinds that can carry them (`None` when they cannot be read,
/// or the kind has none).
pub async fn tags_of(aws: &AwsClients, r: &Resource) -> Option<BTreeMap<String, String>> {
    match r.kind.as_str() {
        "role" => aws
            .iam
            .list_role_tags()
            .role_name(&r.name)
            .send()
            .await
            .ok()
            .map(|o| {
                o.tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect()
            }),
        "event-bus" => {
            let arn = aws
                .events
                .describe_event_bus()
                .name(&r.name)
                .send()
                .await
                .ok()
                .and_then(|o| o.arn().map(str::to_string));
            event_tags(aws, arn).await
        }
        "rule" => {
            let arn = aws
                .events
                .describe_rule()
                .name(&r.name)
                .event_bus_name(r.attributes.get("bus").cloned().unwrap_or_default())
                .send()
                .await
                .ok()
                .and_then(|o| o.arn().map(str::to_string));
            event_tags(aws, arn).await
        }
        "queue" => {
            let url = aws
                .sqs
                .get_queue_url()
                .queue_name(&r.name)
                .send()
                .await
                .ok()?;
            aws.sqs
                .list_queue_tags()
                .queue_url(url.queue_url().unwrap_or_default())
                .send()
                .await
                .ok()
                .map(|o| o.tags().cloned().unwrap_or_default().into_iter().collect())
        }
        "function" => aws
            .lambda
            .get_function()
            .function_name(&r.name)
            .send()
            .await
            .ok()
            .map(|o| o.tags().cloned().unwrap_or_default().into_iter().collect()),
        _ => None,
    }
}

/// Whether `r` carries this deployment's ownership `tags` (an archive, which cannot be tagged,
/// is ours when the bus it archives is).
pub async fn proven_ours(aws: &AwsClients, r: &Resource, tags: &BTreeMap<String, String>) -> bool {
    if r.kind == "archive" {
        let source = aws
            .events
            .describe_archive()
            .archive_name(&r.name)
            .send()
            .await
            .ok()
            .and_then(|o| o.event_source_arn().map(str::to_string));
        let bus = source.and_then(|a| a.rsplit('/').next().map(str::to_string));
        return match bus {
            Some(bus) => {
                Box::pin(proven_ours(
                    aws,
                    &Resource::new("event-bus", &bus, ""),
                    tags,
                ))
                .await
            }
            None => false,
        };
    }
    tags_of(aws, r)
        .await
        .is_some_and(|found| carries(&found, tags))
}

pub(crate) async fn event_tags(
    aws: &AwsClients,
    arn: Option<String>,
) -> Option<BTreeMap<String, String>> {
    let out = aws
        .events
        .list_tags_for_resource()
        .resource_arn(arn?)
        .send()
        .await
        .ok()?;
    Some(
        out.tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
    )
}

/// The id `terraform import` takes for `r`.
pub async fn import_id(aws: &AwsClients, r: &Resource) -> Result<String, crate::engine::StepError> {
    Ok(match r.kind.as_str() {
        "rule" => format!(
            "{}/{}",
            r.attributes.get("bus").cloned().unwrap_or_default(),
            r.name
        ),
        "queue" => aws
            .sqs
            .get_queue_url()
            .queue_name(&r.name)
            .send()
            .await
            .map_err(|e| crate::aws::sdk_error("sqs:GetQueueUrl", e))?
            .queue_url()
            .unwrap_or_default()
            .to_string(),
        _ => r.name.clone(),
    })
}

/// The resources a saved plan (`terraform show -json`) would create, as inventory entries.
/// Replacements are not creates: the old resource is already this deployment's.
pub fn planned_creates(plan_json: &str) -> Result<Vec<Resource>, String> {
    let plan: Value =
        serde_json::from_str(plan_json).map_err(|e| format!("the plan is not JSON: {e}"))?;
    let mut out = Vec::new();
    for rc in plan["resource_changes"].as_array().into_iter().flatten() {
        let actions: Vec<&str> = rc["change"]["actions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if actions != ["create"] {
            continue;
        }
        let after = &rc["change"]["after"];
        let name = after["name"].as_str().unwrap_or_default();
        let kind = match rc["type"].as_str().unwrap_or_default() {
            "aws_cloudwatch_event_bus" => "event-bus",
            "aws_cloudwatch_event_rule" => "rule",
            "aws_cloudwatch_event_archive" => "archive",
            "aws_sqs_queue" => "queue",
            "aws_iam_role" => "role",
            _ => continue,
        };
        if name.is_empty() {
            continue;
        }
        let mut r = Resource::new(kind, name, "");
        if let Some(address) = rc["address"].as_str() {
            r = r.with("address", address);
        }
        if let Some(bus) = after["event_bus_name"].as_str() {
            r = r.with("bus", bus);
        }
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pure_creates_of_named_kinds_are_taken() {
        let plan = r#"{"resource_changes":[
          {"type":"aws_sqs_queue","change":{"actions":["create"],"after":{"name":"dev-dlq"}}},
          {"type":"aws_cloudwatch_event_rule","change":{"actions":["create"],
             "after":{"name":"dev-r","event_bus_name":"dev-bus"}}},
          {"type":"aws_iam_role","change":{"actions":["delete","create"],"after":{"name":"x"}}},
          {"type":"aws_iam_role_policy","change":{"actions":["create"],"after":{"name":"p"}}},
          {"type":"aws_iam_role","change":{"actions":["no-op"],"after":{"name":"y"}}}
        ]}"#;
        let creates = planned_creates(plan).unwrap();
        let names: Vec<_> = creates
            .iter()
            .map(|r| format!("{} {}", r.kind, r.name))
            .collect();
        assert_eq!(names, ["queue dev-dlq", "rule dev-r"]);
        assert_eq!(creates[1].attributes["bus"], "dev-bus");
        assert!(planned_creates("nope").is_err());
    }

    #[test]
    fn named_resources_follow_the_environment() {
        let c = deploy_config::parse(
            std::path::Path::new("/p/deploy.toml"),
            "[project]\nname = \"hub\"\nenvironment = \"qa\"\n",
            &deploy_config::Overrides::default(),
        )
        .unwrap();
        let names: Vec<String> = named_resources(&c).into_iter().map(|r| r.name).collect();
        assert!(names.contains(&"qa-application-events".to_string()));
        assert!(names.contains(&"qa-eventbridge-dlq".to_string()));
        assert!(names.iter().all(|n| n.starts_with("qa-")), "{names:?}");
    }
}

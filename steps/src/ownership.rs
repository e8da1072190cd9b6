//! What makes a resource this deployment's: the ownership tags it carries, the names its
//! configuration gives, and whose state records a resource that is in the way.
//!
//! Used twice: when there is no state for a deployment, to never claim "nothing is deployed"
//! without looking; and before Terraform creates anything, because some creates take over an
//! existing resource instead of failing (SQS `CreateQueue` returns an existing queue with the
//! same attributes).

use deploy_config::Config;
use deploy_state::backend::Deployments;
use deploy_state::{LedgerState, Resource, ResourceKind};
use serde_json::Value;

use crate::catalog::{self, Tags};

/// The tags every resource of this deployment carries (Terraform's `default_tags` and the SDK
/// creates alike): its identity, and the tool that manages it.
pub fn ownership_tags(config: &Config) -> Tags {
    Tags::from([
        ("Project".to_string(), config.project.name.clone()),
        (
            "Environment".to_string(),
            config.project.environment.clone(),
        ),
        ("Region".to_string(), config.project.region.clone()),
        ("ManagedBy".to_string(), "deploy".to_string()),
    ])
}

/// Every resource this deployment makes, by the names its configuration gives.
pub fn named_resources(config: &Config) -> Vec<Resource> {
    let named = |kind, name: &str| Resource::new(kind, name, "");
    let bus = &config.eventbus.name;
    let mut out = vec![named(ResourceKind::EventBus, bus)];
    for rule in config.rule_names() {
        out.push(named(ResourceKind::Rule, &rule).on_bus(bus));
    }
    out.push(named(ResourceKind::Archive, &config.eventbus.archive_name));
    out.push(named(ResourceKind::Queue, &config.dlq.name));
    for q in config.consumer_queues() {
        out.push(named(ResourceKind::ConsumerQueue, &q));
    }
    for role in config.role_names() {
        out.push(named(ResourceKind::Role, &role));
    }
    for l in &config.lambdas {
        out.push(named(ResourceKind::Function, &l.function_name));
    }
    out
}

/// The other deployments' ledgers in the same store as `backend`: where each is, and what it
/// records.
pub async fn other_ledgers(backend: &dyn Deployments) -> Vec<(String, LedgerState)> {
    let me = backend.location();
    backend
        .deployments()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|(location, _)| location.trim_end_matches('/') != me.trim_end_matches('/'))
        .filter_map(|(location, bytes)| {
            let state = deploy_state::parse_state(&location, &bytes).ok()?;
            Some((location, state))
        })
        .collect()
}

/// The deployment among `ledgers` that records `r` (`deployment ..., state ...`), if any.
pub fn recorded_owner(ledgers: &[(String, LedgerState)], r: &Resource) -> Option<String> {
    let (location, state) = ledgers
        .iter()
        .find(|(_, state)| catalog::holds(&state.inventory, r))?;
    let who = state.identity.as_ref().map_or_else(
        || "an unnamed deployment".to_string(),
        |id| format!("deployment {id}"),
    );
    Some(format!("{who}, state {location}"))
}

/// The resources a saved plan (`terraform show -json`) would create, as inventory entries
/// (each with its Terraform `address`). Replacements are not creates: the old resource is
/// already this deployment's.
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
        let ty = rc["type"].as_str().unwrap_or_default();
        let kind = ResourceKind::all().find(|&k| catalog::of(k).terraform_type() == Some(ty));
        let Some(kind) = kind.filter(|_| !name.is_empty()) else {
            continue;
        };
        let address = rc["address"].as_str().map(str::to_string);
        let bus = after["event_bus_name"].as_str().map(str::to_string);
        out.push(Resource::new(kind, name, "").with(|a| {
            a.address = address;
            a.bus = bus;
        }));
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
          {"type":"aws_cloudwatch_event_target","change":{"actions":["create"],"after":{}}},
          {"type":"aws_iam_role","change":{"actions":["no-op"],"after":{"name":"y"}}}
        ]}"#;
        let creates = planned_creates(plan).unwrap();
        let names: Vec<_> = creates.iter().map(Resource::label).collect();
        assert_eq!(names, ["queue dev-dlq", "rule dev-r"]);
        assert_eq!(creates[1].bus(), "dev-bus");
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

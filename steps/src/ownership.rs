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

#[cfg(test)]
mod tests {
    use super::*;

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

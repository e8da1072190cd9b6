//! The last good deployment: what a `deploy all` whose verification passed had deployed, kept
//! with the state (a document, like the applied hub) so that any runner can return to it.

use std::collections::{BTreeMap, BTreeSet};

use deploy_config::{Config, TargetKind};
use deploy_state::backend::Objects;
use deploy_state::{Contracts, Ledger, LedgerState, RESULTS_FILE, ResourceKind, StepStatus};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::change::AppliedHub;
use crate::deploy::lambdas::version;
use crate::engine::StepError;
use crate::env::Env;
use crate::terraform::TfVars;

/// The document of the deployment's state that holds it.
/// Under [`deploy_state::ROLLBACK_DOCUMENTS`], which `deploy state migrate` carries over.
pub const LAST_GOOD_DOCUMENT: &str = "rollback/last-good.json";

/// A function as one route's target, as the `lambdas` step wired it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FunctionTarget {
    pub function: String,
    pub rule: String,
    pub id: String,
    pub retry_attempts: Option<u32>,
    pub max_event_age_seconds: Option<u32>,
    pub dead_letter: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastGood {
    pub recorded_at: Timestamp,
    /// The Terraform variables applied (the rollback applies them with the stack's files of
    /// its day).
    pub tfvars: TfVars,
    /// What the change module knew as applied.
    pub applied_hub: AppliedHub,
    /// Function name → the version its alias pointed at.
    pub aliases: BTreeMap<String, String>,
    /// Function name → the version its alias pointed at before (the last good deployment with
    /// another version): kept until a successful deploy moves the alias again.
    #[serde(default)]
    pub previous: BTreeMap<String, String>,
    /// The contract versions shipped.
    pub contracts: Contracts,
    /// Route key → rule name.
    pub routes: BTreeMap<String, String>,
    /// The routes whose delivery `test-events` proved (an example reached every target).
    pub proven_routes: BTreeSet<String>,
    /// The function targets the `lambdas` step wired.
    pub wiring: Vec<FunctionTarget>,
    /// The `infrastructure` step's outputs (bus, rules and their ARNs, queue).
    pub infrastructure: BTreeMap<String, String>,
}

impl LastGood {
    /// What `state`, deployed from `config` and verified, consists of.
    pub fn of(
        config: &Config,
        state: &LedgerState,
        applied_hub: AppliedHub,
        results: Option<&[u8]>,
    ) -> LastGood {
        let tfvars = TfVars::from_config(config);
        let aliases = state
            .resources(ResourceKind::Alias)
            .filter_map(|a| {
                let f = a.attributes.function.clone()?;
                Some((f, a.attributes.version.clone()?))
            })
            .collect();
        LastGood {
            recorded_at: Timestamp::now(),
            routes: tfvars
                .routes
                .iter()
                .map(|(k, r)| (k.clone(), r.rule_name.clone()))
                .collect(),
            tfvars,
            applied_hub,
            aliases,
            previous: BTreeMap::new(),
            contracts: state.contracts.clone(),
            proven_routes: results.map(proven_routes).unwrap_or_default(),
            wiring: wiring(config),
            infrastructure: state.step("infrastructure").outputs,
        }
    }

    /// The record in the state, if any.
    pub async fn load(objects: &dyn Objects) -> Option<LastGood> {
        let read = objects.read(LAST_GOOD_DOCUMENT).await.ok()??;
        serde_json::from_slice(&read.bytes).ok()
    }

    pub async fn save(&self, ledger: &Ledger) -> Result<(), StepError> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("plain data serializes");
        bytes.push(b'\n');
        ledger.put_document(LAST_GOOD_DOCUMENT, &bytes).await?;
        Ok(())
    }

    /// One line for people: `of 2026-05-01T10:00:00Z: dev-event-logger at version 3, ...`.
    pub fn describe(&self) -> String {
        let versions: Vec<String> = self
            .aliases
            .iter()
            .map(|(f, v)| format!("{f} at version {v}"))
            .collect();
        format!(
            "of {}: {} route(s){}{}",
            self.recorded_at
                .round(jiff::Unit::Second)
                .unwrap_or(self.recorded_at),
            self.routes.len(),
            if versions.is_empty() { "" } else { ", " },
            versions.join(", ")
        )
    }
}

/// The function targets `config` wires, with their settings.
pub fn wiring(config: &Config) -> Vec<FunctionTarget> {
    let mut out = Vec::new();
    for lambda in &config.lambdas {
        for route in config.lambda_routes(&lambda.key) {
            for t in &route.targets {
                if matches!(&t.kind, TargetKind::Lambda { key } if key == &lambda.key) {
                    out.push(FunctionTarget {
                        function: lambda.function_name.clone(),
                        rule: route.rule_name.clone(),
                        id: t.id.clone(),
                        retry_attempts: t.retry_attempts,
                        max_event_age_seconds: t.max_event_age_seconds,
                        dead_letter: t.dead_letter,
                    });
                }
            }
        }
    }
    out.sort();
    out
}

/// The routes a `test-results.json` proved: every check of theirs (`route <key> -> ...`)
/// passed.
pub fn proven_routes(results: &[u8]) -> BTreeSet<String> {
    let doc: serde_json::Value = serde_json::from_slice(results).unwrap_or_default();
    let mut passed = BTreeSet::new();
    let mut failed = BTreeSet::new();
    for c in doc["checks"].as_array().into_iter().flatten() {
        let name = c["name"].as_str().unwrap_or_default();
        let Some(route) = name
            .strip_prefix("route ")
            .and_then(|r| r.split(" -> ").next())
        else {
            continue;
        };
        if c["passed"] == true {
            passed.insert(route.to_string());
        } else {
            failed.insert(route.to_string());
        }
    }
    passed.difference(&failed).cloned().collect()
}

/// For each function, the version before `now`'s: the one the earlier record's alias pointed at
/// when it differs, else the one that record kept as its previous.
pub fn previous_versions(
    now: &BTreeMap<String, String>,
    earlier: &LastGood,
) -> BTreeMap<String, String> {
    now.iter()
        .filter_map(|(f, v)| {
            let before = match earlier.aliases.get(f) {
                Some(b) if b != v => Some(b),
                _ => earlier.previous.get(f).filter(|p| *p != v),
            };
            Some((f.clone(), before?.clone()))
        })
        .collect()
}

/// Whether the ledger shows a deploy whose verification passed: every deploy step completed.
pub fn verified(state: &LedgerState) -> bool {
    ["infrastructure", "lambdas", "test-events", "contract"]
        .iter()
        .all(|s| state.step(s).status == StepStatus::Completed)
}

/// What recording a last good deployment did.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// Versions removed, as `function:version`.
    pub pruned: Vec<String>,
    /// Why some could not be removed (they are tried again by the next successful deploy).
    pub warnings: Vec<String>,
}

/// After a `deploy all` whose verification passed: records what it deployed as the last good
/// deployment and removes the versions older than the one before it (at most two per
/// function remain: the alias's and the previous last good one's).
pub async fn record(env: &Env, ledger: &Ledger) -> Result<Recorded, StepError> {
    let state = ledger.state();
    let previous = match &env.state {
        Some(objects) => LastGood::load(objects.as_ref()).await,
        None => None,
    };
    let applied = match &env.state {
        Some(objects) => AppliedHub::load(objects.as_ref(), &env.local_dir).await,
        None => None,
    };
    let vars = TfVars::from_config(&env.config);
    let applied = applied
        .unwrap_or_else(|| AppliedHub::of(&vars).with_digest(&env.config.terraform.dir, &vars));
    let results = ledger.document(RESULTS_FILE).await?;
    let mut good = LastGood::of(&env.config, state, applied, results.as_deref());
    if let Some(p) = &previous {
        good.previous = previous_versions(&good.aliases, p);
    }
    good.save(ledger).await?;
    let mut out = Recorded::default();
    let aws = env.aws().await?;
    for (function, live) in &good.aliases {
        let mut keep = vec![live.as_str()];
        keep.extend(good.previous.get(function).map(String::as_str));
        match version::prune(&aws.lambda, function, &keep).await {
            Ok(gone) => out
                .pruned
                .extend(gone.into_iter().map(|v| format!("{function}:{v}"))),
            Err(e) => out
                .warnings
                .push(format!("old versions of {function} not removed: {e}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_is_proven_when_every_check_of_its_targets_passed() {
        let results = serde_json::json!({"checks": [
            {"name": "examples valid", "passed": true},
            {"name": "route all-events-to-logger -> lambda event-logger", "passed": true},
            {"name": "route a -> sqs q", "passed": true},
            {"name": "route a -> lambda f", "passed": false},
        ]});
        let proven = proven_routes(&serde_json::to_vec(&results).unwrap());
        assert_eq!(proven, BTreeSet::from(["all-events-to-logger".to_string()]));
    }

    fn record(aliases: &[(&str, &str)], previous: &[(&str, &str)]) -> LastGood {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(f, v)| (f.to_string(), v.to_string()))
                .collect()
        };
        let config = deploy_config::parse(
            std::path::Path::new("/p/deploy.toml"),
            "",
            &deploy_config::Overrides::default(),
        )
        .unwrap();
        let mut good = LastGood::of(
            &config,
            &LedgerState::default(),
            AppliedHub::default(),
            None,
        );
        good.aliases = map(aliases);
        good.previous = map(previous);
        good
    }

    #[test]
    fn the_previous_version_is_the_last_other_one_and_survives_a_run_that_changed_nothing() {
        let now = BTreeMap::from([("f".to_string(), "3".to_string())]);
        let moved = previous_versions(&now, &record(&[("f", "1")], &[]));
        assert_eq!(moved["f"], "1");
        let unchanged = previous_versions(&now, &record(&[("f", "3")], &[("f", "1")]));
        assert_eq!(unchanged["f"], "1", "a no-op deploy keeps the one before");
        assert!(previous_versions(&now, &record(&[("f", "3")], &[])).is_empty());
        assert!(previous_versions(&now, &record(&[("g", "1")], &[])).is_empty());
    }

    #[test]
    fn a_deploy_is_verified_when_every_deploy_step_completed() {
        let mut state = LedgerState::default();
        assert!(!verified(&state));
        for s in ["infrastructure", "lambdas", "test-events", "contract"] {
            state.steps.entry(s.into()).or_default().status = StepStatus::Completed;
        }
        assert!(verified(&state));
        state.steps.get_mut("test-events").unwrap().status = StepStatus::Failed;
        assert!(!verified(&state));
    }
}

//! The live side of a plan: a digest of what each resource the plan creates, changes, replaces
//! or deletes looks like now, so a resource edited behind the plan's back makes the plan stale;
//! and what each step's live check (the checks of `status --live`) finds wrong, so that drift
//! the plan does not touch, which a run would otherwise repair unreviewed or trip on, makes it
//! stale too.

use std::collections::BTreeMap;
use std::sync::Arc;

use deploy_state::LedgerState;
use tokio::task::JoinSet;

use super::Touched;
use crate::aws::AwsClients;
use crate::catalog::{self, Cx, Lookups};
use crate::engine::Live;
use crate::env::Env;
use crate::pipeline;

/// `kind name` → digest of its live description, for each of `touched`.
pub async fn fingerprints(aws: &AwsClients, touched: &[Touched]) -> BTreeMap<String, String> {
    let lookups = Arc::new(Lookups::default());
    let mut set = JoinSet::new();
    for r in touched.iter().map(Touched::resource) {
        let (aws, lookups) = (aws.clone(), lookups.clone());
        set.spawn(async move {
            let cx = Cx {
                aws: &aws,
                lookups: &lookups,
            };
            let described = catalog::of(r.kind).describe(&cx, &r).await;
            let bytes = serde_json::to_vec(&described).expect("json serializes");
            (r.label(), deploy_state::fingerprint::sha256_hex(&bytes))
        });
    }
    set.join_all().await.into_iter().collect()
}

/// The resources whose live fingerprint differs from the plan's, one line each.
pub fn drifted(
    touched: &[Touched],
    planned: &BTreeMap<String, String>,
    now: &BTreeMap<String, String>,
) -> Vec<String> {
    let created = |label: &str| {
        touched
            .iter()
            .any(|t| t.created && t.resource().label() == label)
    };
    planned
        .iter()
        .filter(|(label, digest)| now.get(*label) != Some(digest))
        .map(|(label, _)| {
            let what = if created(label) {
                "the plan creates it, and it did not exist then: a create would take it over"
            } else {
                "it is one the plan changes"
            };
            format!("{label} changed in AWS since the plan ({what})")
        })
        .collect()
}

/// What each step's live check finds wrong now: step → one line per finding (none when it
/// finds nothing, or could not check).
pub async fn findings(env: &Env, state: &LedgerState) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for step in pipeline::deploy() {
        let lines = match step.live_check(env, state).await {
            Live::Unknown | Live::Healthy => continue,
            Live::Missing(names) => names.iter().map(|n| format!("missing: {n}")).collect(),
            Live::Drifted(how) => how,
            Live::Pending(names) => names
                .iter()
                .map(|n| format!("still to remove: {n}"))
                .collect(),
        };
        out.insert(step.name().to_string(), lines);
    }
    out
}

/// What the live checks find now that they did not find when the plan was made, one line each.
pub fn found_since(
    planned: &BTreeMap<String, Vec<String>>,
    now: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    now.iter()
        .flat_map(|(step, lines)| lines.iter().map(move |l| (step, l)))
        .filter(|(step, line)| !planned.get(*step).is_some_and(|p| p.contains(line)))
        .map(|(step, line)| format!("{line} (found by {step}'s live check since the plan)"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_was_not_found_when_planning_is_named() {
        let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let planned = BTreeMap::from([("lambdas".to_string(), lines(&["mapping m disabled"]))]);
        let now = BTreeMap::from([
            ("lambdas".to_string(), lines(&["mapping m disabled"])),
            (
                "infrastructure".to_string(),
                lines(&["the event pattern of rule r differs"]),
            ),
        ]);
        assert_eq!(
            found_since(&planned, &now),
            [
                "the event pattern of rule r differs (found by infrastructure's live check since the plan)"
            ]
        );
        // Repaired since, or still there: nothing new.
        assert!(found_since(&planned, &BTreeMap::new()).is_empty());
        assert!(found_since(&planned, &planned).is_empty());
    }
}

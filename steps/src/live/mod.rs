//! Live checks: does each owned resource still exist in AWS, does it work, and does it still
//! look the way it was deployed (drift)? All resources at once, each question asked once (one
//! `ListRules` per bus, one policy per function: the catalog's `Lookups`). Shared by `deploy
//! status --live` ([`report`]), test-events' health checks and the engine before it skips a
//! completed step ([`step_live`]).
//!
//! What each kind checks is in its catalog module: a rule is enabled with the applied pattern;
//! a target is attached to its rule; a permission is granted; a role has the applied inline
//! policies; a queue keeps messages as long as applied, and the dead-letter queue holding
//! messages is degraded; an archive keeps events as applied; a function is `Active`; a mapping
//! is enabled; and the kinds that carry tags still carry the deployment's.

mod verdict;

pub use verdict::{Report, Verdict, report};

use std::sync::Arc;
use std::time::Duration;

use deploy_state::{LedgerState, Resource};
use tokio::task::JoinSet;

use crate::aws::AwsClients;
use crate::catalog::{self, Cx, Lookups, carries};
pub use crate::catalog::{Applied, Health};
use crate::engine::{Live, Poller};
use crate::env::Env;

/// Checks one resource, against what was applied and the tags it should carry.
async fn check(cx: &Cx<'_>, r: &Resource, applied: &Applied) -> Health {
    let kind = catalog::of(r.kind);
    let mut h = kind.look_up(cx, r).await;
    if h.exists != Some(true) {
        return h;
    }
    h.drift = kind.drift(cx, r, applied, &h).await;
    if !applied.tags.is_empty()
        && kind.checks_tags()
        && let Some(found) = kind.tags(cx, r).await
        && !carries(&found, &applied.tags)
    {
        h.drift
            .push(format!("{} lost its ownership tags", r.label()));
    }
    if !h.drift.is_empty() {
        h.healthy = false;
        h.detail = h.drift.join("; ");
    }
    h
}

/// How long checks that could not be made (after the SDK's own attempts) are asked again
/// before they are reported as unknown.
const ASK_AGAIN_WITHIN: Duration = Duration::from_secs(10);

/// Checks every resource concurrently, against `applied`; results come back in the given
/// order. A check that failed in a way waiting may fix is asked again, with fresh lookups,
/// until [`ASK_AGAIN_WITHIN`]; what still cannot be checked then is unknown. When no check
/// got an answer at all (nothing listens at the endpoint, the network is down), the unknowns
/// are reported at once: asking again would only make the operator wait.
pub async fn check_all(aws: &AwsClients, resources: &[Resource], applied: &Applied) -> Vec<Health> {
    let answered = |checked: &[Health]| checked.iter().any(|h| h.exists.is_some());
    let mut out = check_each(aws, resources, applied).await;
    let mut poll = Poller::new(ASK_AGAIN_WITHIN);
    loop {
        let again: Vec<usize> = (0..out.len()).filter(|&i| out[i].ask_again).collect();
        if again.is_empty() || !answered(&out) || !poll.wait().await {
            return out;
        }
        let subset: Vec<Resource> = again.iter().map(|&i| resources[i].clone()).collect();
        for (i, h) in again
            .into_iter()
            .zip(check_each(aws, &subset, applied).await)
        {
            out[i] = h;
        }
    }
}

async fn check_each(aws: &AwsClients, resources: &[Resource], applied: &Applied) -> Vec<Health> {
    let mut set = JoinSet::new();
    let applied = Arc::new(applied.clone());
    let lookups = Arc::new(Lookups::default());
    for (i, r) in resources.iter().cloned().enumerate() {
        let (aws, applied, lookups) = (aws.clone(), applied.clone(), lookups.clone());
        set.spawn(async move {
            let cx = Cx {
                aws: &aws,
                lookups: &lookups,
            };
            (i, check(&cx, &r, &applied).await)
        });
    }
    let mut out: Vec<(usize, Health)> = set.join_all().await;
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, h)| h).collect()
}

/// What the deployment serves: the inventory without the probes' temporary pieces.
pub fn served(state: &LedgerState) -> impl Iterator<Item = &Resource> {
    state.inventory.iter().filter(|r| !r.kind.is_probe())
}

/// The live check of one step: whether what it created still exists.
pub async fn step_live(env: &Env, state: &LedgerState, step: &str) -> Live {
    let mine: Vec<Resource> = served(state)
        .filter(|r| r.created_by == step)
        .cloned()
        .collect();
    if mine.is_empty() {
        return Live::Unknown;
    }
    let Ok(aws) = env.aws().await else {
        return Live::Unknown;
    };
    let checked = check_all(aws, &mine, &env.applied().await).await;
    let missing: Vec<String> = checked
        .iter()
        .filter(|h| h.exists == Some(false))
        .map(Health::label)
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

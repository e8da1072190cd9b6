//! A change to a live hub, made in three checkpointed phases so that no event is lost while
//! producers keep publishing:
//!
//! - **expand** (the `infrastructure` and `lambdas` steps): everything the new configuration adds
//!   or changes in place is applied, while what it removes is kept ("retiring"): old rules,
//!   targets, queues stay and keep delivering;
//! - **verify** (`test-events`): every route proves it delivers;
//! - **contract** (the `contract` step): what retired is removed, in the order AWS enforces
//!   (targets, then rules, then queues), and never a queue that holds messages without consent.
//!
//! What is in AWS is remembered as the part of Terraform's variables that can retire: the routes
//! and the consumer queues last applied ([`AppliedHub`], a document of the deployment's state).

mod guard;
mod hub;

pub use guard::{Consent, holding, queues_empty};
pub use hub::{AppliedHub, HUB_DOCUMENT};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::env::Env;
use crate::terraform::TfVars;
use crate::terraform::tfvars::TfRoute;

/// What a change keeps for now and removes once the new paths are proven.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retiring {
    /// Routes no longer configured: route key → rule name.
    pub routes: BTreeMap<String, String>,
    /// Targets no longer configured on a route that stays: (route key, target id).
    pub targets: Vec<(String, String)>,
    /// Consumer queues no longer configured: queue key → queue name.
    pub queues: BTreeMap<String, String>,
}

impl Retiring {
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty() && self.targets.is_empty() && self.queues.is_empty()
    }

    /// One line per retiring piece, for people (`rule dev-a`, `queue dev-old-inbox`).
    pub fn lines(&self) -> Vec<String> {
        let routes = self
            .routes
            .iter()
            .map(|(key, rule)| format!("route {key} (rule {rule})"));
        let targets = self
            .targets
            .iter()
            .map(|(route, id)| format!("target {id} of route {route}"));
        let queues = self.queues.values().map(|q| format!("queue {q}"));
        routes.chain(targets).chain(queues).collect()
    }
}

/// What expands: routes and consumer queues the new configuration adds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expanding {
    pub routes: Vec<String>,
    pub queues: Vec<String>,
}

/// A change from what was applied to what is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What was applied last, when it is known.
    pub applied: Option<AppliedHub>,
    /// The variables of the expand phase: the configuration, with what retires kept.
    pub expanded: TfVars,
    pub expanding: Expanding,
    pub retiring: Retiring,
}

/// The change the configuration asks of the deployment `env` runs against.
pub async fn for_env(env: &Env) -> Change {
    let applied = match &env.state {
        Some(objects) => AppliedHub::load(objects.as_ref(), &env.local_dir).await,
        None => None,
    };
    let mut change = plan(applied.as_ref(), &TfVars::from_config(&env.config));
    change.applied = applied;
    change
}

/// What `deploy plan` says of a pending change: what expands, what retires, and how many
/// messages each retiring queue holds (lost if it is deleted without being read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub expanding: Expanding,
    pub retiring: Retiring,
    /// Queue name → its depth (`None`: could not be read).
    pub queue_depths: BTreeMap<String, Option<crate::catalog::Depth>>,
}

impl Pending {
    /// One line each: `expands route b`, `retires queue dev-old (3 message(s): ...)`.
    pub fn lines(&self) -> Vec<String> {
        let e = &self.expanding;
        let mut out: Vec<String> = e
            .routes
            .iter()
            .map(|r| format!("expands route {r}"))
            .collect();
        out.extend(e.queues.iter().map(|q| format!("expands queue {q}")));
        for line in self.retiring.lines() {
            let depth = self
                .queue_depths
                .iter()
                .find(|(q, _)| line == format!("queue {q}"))
                .map(|(_, d)| match d {
                    Some(d) => format!(" ({d})"),
                    None => " (depth unknown)".into(),
                });
            out.push(format!("retires {line}{}", depth.unwrap_or_default()));
        }
        out
    }
}

/// The pending change of the deployment `env` runs against, with the depth of each retiring
/// queue.
pub async fn pending(env: &Env) -> Pending {
    let change = for_env(env).await;
    let mut queue_depths = BTreeMap::new();
    if let Ok(aws) = env.aws().await {
        for q in change.retiring.queues.values() {
            let depth = crate::catalog::queue_depth(aws, q).await.ok().flatten();
            queue_depths.insert(q.clone(), depth);
        }
    }
    Pending {
        expanding: change.expanding,
        retiring: change.retiring,
        queue_depths,
    }
}

/// The change from `applied` (nothing recorded: nothing retires) to `current`.
pub fn plan(applied: Option<&AppliedHub>, current: &TfVars) -> Change {
    let mut expanded = current.clone();
    let mut retiring = Retiring::default();
    let empty = AppliedHub::default();
    let before = applied.unwrap_or(&empty);
    for (key, old) in &before.routes {
        match expanded.routes.get_mut(key) {
            None => {
                retiring.routes.insert(key.clone(), old.rule_name.clone());
                expanded.routes.insert(key.clone(), old.clone());
            }
            Some(new) => keep_old_targets(key, old, new, &mut retiring),
        }
    }
    for (key, name) in &before.consumer_queues {
        if !current.consumer_queues.contains_key(key) {
            retiring.queues.insert(key.clone(), name.clone());
            expanded.consumer_queues.insert(key.clone(), name.clone());
        }
    }
    let expanding = Expanding {
        routes: new_keys(&current.routes, &before.routes),
        queues: new_keys(&current.consumer_queues, &before.consumer_queues)
            .into_iter()
            .map(|k| current.consumer_queues[&k].clone())
            .collect(),
    };
    Change {
        applied: None,
        expanded,
        expanding,
        retiring,
    }
}

/// Targets a kept route no longer has stay on it until the contraction.
fn keep_old_targets(key: &str, old: &TfRoute, new: &mut TfRoute, retiring: &mut Retiring) {
    for t in &old.targets {
        if !new.targets.iter().any(|n| n.id == t.id) {
            retiring.targets.push((key.to_string(), t.id.clone()));
            new.targets.push(t.clone());
        }
    }
}

fn new_keys<V>(now: &BTreeMap<String, V>, before: &BTreeMap<String, V>) -> Vec<String> {
    now.keys()
        .filter(|k| !before.contains_key(*k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests;

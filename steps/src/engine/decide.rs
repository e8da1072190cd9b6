//! Whether a step runs, and why: shared by `deploy all`, `deploy run` and `deploy plan`.

use deploy_state::{Fingerprint, LedgerState, StepStatus};

use super::step::{Live, Step};
use crate::env::Env;

#[derive(Debug, Clone)]
pub struct Decision {
    pub run: bool,
    pub reason: String,
    /// The inputs changed (or resources are missing) since the step completed: later steps
    /// are stale once it runs.
    pub invalidates_later: bool,
    pub fingerprint: Option<Fingerprint>,
}

impl Decision {
    fn run(reason: impl Into<String>, fp: Option<Fingerprint>) -> Self {
        Decision {
            run: true,
            reason: reason.into(),
            invalidates_later: false,
            fingerprint: fp,
        }
    }
}

/// The fingerprint component naming the AWS endpoint or emulator a step ran against.
pub const TARGET_COMPONENT: &str = "target";

pub async fn decide(step: &dyn Step, env: &Env, state: &LedgerState, force: bool) -> Decision {
    let record = state.step(step.name());
    let fp = step.fingerprint(env, state).await;
    let fp_ok = fp.as_ref().ok().cloned();
    match record.status {
        StepStatus::NotStarted => return Decision::run("never ran", fp_ok),
        StepStatus::Failed => {
            let why = record.last_error.as_deref().unwrap_or("unknown error");
            return Decision::run(format!("failed last time: {}", first_line(why)), fp_ok);
        }
        StepStatus::Interrupted => return Decision::run("was interrupted", fp_ok),
        StepStatus::InProgress => return Decision::run("was left in progress", fp_ok),
        StepStatus::Stale => {
            // What it makes changes again, so what verified it must run again too (a step run
            // on its own since it went stale, `deploy run test-events` after a rollback, did not
            // see this change).
            let why = record.note.as_deref().unwrap_or("an earlier step re-ran");
            let mut d = Decision::run(format!("stale: {why}"), fp_ok);
            d.invalidates_later = true;
            return d;
        }
        StepStatus::Skipped => return Decision::run("was skipped last time", fp_ok),
        StepStatus::Completed => {}
    }
    let fp = match fp {
        Ok(fp) => fp,
        Err(e) => return Decision::run(format!("inputs could not be read: {e}"), None),
    };
    if record.fingerprint.as_deref() != Some(fp.digest().as_str()) {
        let changed = fp.changed_since(&record.inputs);
        let reason = if changed.iter().any(|c| c == TARGET_COMPONENT) {
            format!(
                "the AWS endpoint it ran against is gone or changed (now {}); its resources went \
                 with it",
                env.target
            )
        } else if changed.is_empty() {
            "inputs changed".to_string()
        } else {
            format!("inputs changed in {}", changed.join(", "))
        };
        let mut d = Decision::run(reason, Some(fp));
        d.invalidates_later = true;
        return d;
    }
    if force {
        return Decision::run("forced (--force)", Some(fp));
    }
    match step.live_check(env, state).await {
        Live::Missing(names) => {
            let mut d = Decision::run(format!("resources missing: {}", names.join(", ")), Some(fp));
            d.invalidates_later = true;
            d
        }
        Live::Drifted(how) => {
            let mut d = Decision::run(format!("drifted: {}", how.join("; ")), Some(fp));
            d.invalidates_later = true;
            d
        }
        Live::Pending(names) => {
            let mut d = Decision::run(format!("still to remove: {}", names.join(", ")), Some(fp));
            d.invalidates_later = true;
            d
        }
        Live::Healthy | Live::Unknown => {
            let when = record
                .finished_at
                .map(|t| format!(" (completed {})", t.round(jiff::Unit::Second).unwrap_or(t)))
                .unwrap_or_default();
            Decision {
                run: false,
                reason: format!("up to date{when}"),
                invalidates_later: false,
                fingerprint: Some(fp),
            }
        }
    }
}

/// [`decide`] for each step of `pipeline` against the same ledger state, as if none of them ran
/// (no `--force`).
pub async fn decide_all(
    pipeline: &[std::sync::Arc<dyn Step>],
    env: &Env,
    state: &LedgerState,
) -> Vec<(&'static str, Decision)> {
    let mut out = Vec::new();
    for step in pipeline {
        out.push((step.name(), decide(step.as_ref(), env, state, false).await));
    }
    out
}

/// What `deploy all` would do with each step of `pipeline`, without doing it: [`decide`] for
/// each, with the rule the engine applies when it runs them — once a step re-runs because its
/// inputs changed or its resources are missing, every later completed step is stale.
pub async fn plan(
    pipeline: &[std::sync::Arc<dyn Step>],
    env: &Env,
    state: &LedgerState,
) -> Vec<(&'static str, Decision)> {
    as_planned(decide_all(pipeline, env, state).await, state)
}

/// [`decide_all`]'s decisions, with later completed steps stale once an earlier one re-runs.
pub fn as_planned(
    decided: Vec<(&'static str, Decision)>,
    state: &LedgerState,
) -> Vec<(&'static str, Decision)> {
    let mut invalidated_by: Option<&'static str> = None;
    decided
        .into_iter()
        .map(|(name, mut d)| {
            let completed = state.step(name).status == StepStatus::Completed;
            if let Some(by) = invalidated_by.filter(|_| completed) {
                d.run = true;
                d.reason = format!("stale once {by} re-runs");
            }
            if d.invalidates_later && invalidated_by.is_none() {
                invalidated_by = Some(name);
            }
            (name, d)
        })
        .collect()
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

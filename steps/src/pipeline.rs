//! The two pipelines and step lookup by name or old script number.

use std::sync::Arc;

use deploy_state::{LedgerState, StepStatus};

use crate::deploy::{contract, iam, infrastructure, lambdas, preflight, test_events};
use crate::engine::Step;
use crate::teardown::{destroy, pre_destroy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pipeline {
    Deploy,
    Teardown,
}

pub fn deploy() -> Vec<Arc<dyn Step>> {
    vec![
        Arc::new(preflight::Preflight),
        Arc::new(iam::Iam),
        Arc::new(infrastructure::Infrastructure),
        Arc::new(lambdas::Lambdas),
        Arc::new(test_events::TestEvents),
        Arc::new(contract::Contract),
    ]
}

pub fn teardown() -> Vec<Arc<dyn Step>> {
    vec![
        Arc::new(pre_destroy::PreDestroy),
        Arc::new(destroy::Destroy),
    ]
}

/// A rollback to the last good deployment (`deploy all` after a failed verification, `deploy
/// rollback`): restored, then verified by `test-events` (run with
/// [`crate::rollback::verification_config`]).
pub fn rollback() -> Vec<Arc<dyn Step>> {
    vec![
        Arc::new(crate::rollback::Rollback),
        Arc::new(test_events::TestEvents),
    ]
}

/// `destroy --discover`: a deployment without state, removed by its tags.
pub fn discovered() -> Vec<Arc<dyn Step>> {
    vec![Arc::new(crate::teardown::discovered::DestroyDiscovered)]
}

pub fn steps(p: Pipeline) -> Vec<Arc<dyn Step>> {
    match p {
        Pipeline::Deploy => deploy(),
        Pipeline::Teardown => teardown(),
    }
}

/// Every step, in pipeline order: deploy then teardown.
pub fn all_steps() -> Vec<Arc<dyn Step>> {
    let mut v = deploy();
    v.extend(teardown());
    v
}

/// Finds a step by name (`infrastructure`) or old number (`020`, `20`), with its pipeline.
pub fn find(name: &str) -> Option<(Pipeline, Arc<dyn Step>)> {
    let trimmed = name.trim_start_matches('0');
    for p in [Pipeline::Deploy, Pipeline::Teardown] {
        for s in steps(p) {
            if s.name() == name
                || (!trimmed.is_empty() && s.number().trim_start_matches('0') == trimmed)
            {
                return Some((p, s));
            }
        }
    }
    None
}

/// The command an operator most likely wants next, for a deployment's ledger.
pub fn next_command(state: &LedgerState) -> String {
    for s in deploy() {
        let r = state.step(s.name());
        match r.status {
            StepStatus::Failed => {
                return format!(
                    "`deploy logs {0}` to see why {0} failed, then `deploy all` to resume",
                    s.name()
                );
            }
            StepStatus::Completed => continue,
            StepStatus::NotStarted if s.name() == "preflight" => return "`deploy all`".into(),
            _ => return format!("`deploy all` (resumes at {})", s.name()),
        }
    }
    "`deploy status --live` to check the deployed resources".into()
}

/// One phrase for a deployment's ledger: destroyed, failed at a step, deployed, or partial.
pub fn summary(s: &LedgerState) -> String {
    if let Some(at) = s.destroyed_at {
        return format!("destroyed {}", at.round(jiff::Unit::Second).unwrap_or(at));
    }
    let steps = deploy();
    if let Some(f) = steps
        .iter()
        .find(|st| s.step(st.name()).status == StepStatus::Failed)
    {
        return format!("failed at {}", f.name());
    }
    let done = steps
        .iter()
        .filter(|st| s.step(st.name()).status == StepStatus::Completed)
        .count();
    format!(
        "{done}/{} steps completed, {} resources",
        steps.len(),
        s.inventory.len()
    )
}

pub fn names() -> Vec<&'static str> {
    all_steps().iter().map(|s| s.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_found_by_name_and_number() {
        assert_eq!(find("infrastructure").unwrap().1.name(), "infrastructure");
        assert_eq!(find("020").unwrap().1.name(), "infrastructure");
        assert_eq!(find("999").unwrap().0, Pipeline::Teardown);
        assert_eq!(find("1").unwrap().1.name(), "preflight");
        assert!(find("nope").is_none());
        assert_eq!(names().len(), 8);
    }
}

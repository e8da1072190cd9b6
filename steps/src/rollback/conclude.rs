//! The end of a rollback: the configuration the restored deployment is verified with, and what
//! is recorded once it was.

use deploy_config::Config;
use deploy_state::{Ledger, StepStatus};

use super::pending::{Done, Pending};
use super::{LastGood, STEP};
use crate::engine::StepError;

/// `config` with the last good deployment's routes: a route the change added is left out, a
/// route whose pattern the change edited has its last good pattern again. `test-events` run
/// with it proves what the rollback restored (the examples and schemas are today's: a route
/// the change removed is not proven, its rule is checked by the live checks).
pub fn verification_config(config: &Config, target: &LastGood) -> Config {
    let mut c = config.clone();
    c.routes
        .retain(|r| target.tfvars.routes.contains_key(&r.key));
    for r in &mut c.routes {
        if let Some(good) = target.tfvars.routes.get(&r.key) {
            r.pattern = good.pattern.clone();
        }
    }
    c
}

/// The steps a rollback leaves to run again: the configuration still asks for the change, so
/// the next `deploy all` applies and verifies it again (and rolls back again should it fail).
const TO_RUN_AGAIN: [&str; 4] = ["lambdas", "test-events", "contract", "infrastructure"];

/// Records the finished rollback ([`Done`], from what the `rollback` step recorded), marks the
/// deploy steps to run again, and removes the pending document.
pub async fn conclude(ledger: &mut Ledger, pending: &Pending) -> Result<Done, StepError> {
    let outputs = ledger.state().step(STEP).outputs;
    let removed = outputs
        .get("removed")
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    let note = "rolled back to the last good deployment: run again to apply the configuration";
    for step in TO_RUN_AGAIN {
        if ledger.state().step(step).status == StepStatus::NotStarted {
            continue;
        }
        ledger
            .transition(step, StepStatus::Stale, |r| r.note = Some(note.into()))
            .await?;
    }
    let done = Done {
        finished_at: jiff::Timestamp::now(),
        why: pending.why.clone(),
        returned_to: pending.target.recorded_at,
        aliases: pending.moved_aliases(),
        removed,
        terraform: outputs.get("terraform").cloned(),
    };
    done.finish(ledger).await?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use deploy_state::LedgerState;

    use super::*;
    use crate::change::AppliedHub;

    fn config(text: &str) -> Config {
        let path = std::path::Path::new("/p/deploy.toml");
        deploy_config::parse(path, text, &deploy_config::Overrides::default()).unwrap()
    }

    const GOOD: &str = "[routes.a]\npattern = '{\"source\":[\"x\"]}'\n\
                        [routes.b]\npattern = '{\"source\":[\"y\"]}'\n";

    #[test]
    fn the_verification_uses_the_last_good_routes() {
        let good = LastGood::of(
            &config(GOOD),
            &LedgerState::default(),
            AppliedHub::default(),
            None,
        );
        let changed = config(
            "[routes.a]\npattern = '{\"source\":[\"z\"]}'\n\
             [routes.b]\npattern = '{\"source\":[\"y\"]}'\n\
             [routes.new]\npattern = '{\"source\":[\"n\"]}'\n",
        );
        let verified = verification_config(&changed, &good);
        let keys: Vec<&str> = verified.routes.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["a", "b"], "the added route is left out");
        let a = verified.routes.iter().find(|r| r.key == "a").unwrap();
        assert_eq!(
            a.pattern, good.tfvars.routes["a"].pattern,
            "the old pattern"
        );
        assert_ne!(a.pattern, changed.routes[0].pattern);
    }

    #[test]
    fn a_pending_rollback_names_the_aliases_it_moves_back() {
        let mut good = LastGood::of(
            &config(GOOD),
            &LedgerState::default(),
            AppliedHub::default(),
            None,
        );
        good.aliases.insert("f".into(), "1".into());
        good.aliases.insert("g".into(), "4".into());
        let why = super::super::Why::Requested;
        let mut pending = Pending::new("deploy rollback", why, good, &LedgerState::default());
        pending.from.insert("f".into(), "2".into());
        pending.from.insert("g".into(), "4".into());
        assert_eq!(pending.moved_aliases(), ["f: version 2 -> 1"]);
    }
}

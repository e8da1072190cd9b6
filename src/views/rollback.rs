//! What `deploy plan` says about rolling back: whether the next run may, to what, and what the
//! last rollback did.

use deploy_steps::rollback::{Done, LastGood, Pending};
use serde_json::{Value, json};

/// What the state holds about rolling back.
pub struct Rollback {
    /// Whether the next `deploy all` verifies a change (test-events would run).
    pub verifies: bool,
    pub last_good: Option<LastGood>,
    pub pending: Option<Pending>,
    pub last: Option<Done>,
}

impl Rollback {
    pub async fn read(
        objects: Option<&dyn deploy_state::backend::Objects>,
        verifies: bool,
    ) -> Self {
        let Some(o) = objects else {
            return Rollback {
                verifies,
                last_good: None,
                pending: None,
                last: None,
            };
        };
        Rollback {
            verifies,
            last_good: LastGood::load(o).await,
            pending: Pending::load(o).await,
            last: Done::load(o).await,
        }
    }

    /// Whether a failed verification of the next run returns to the last good deployment.
    pub fn may_roll_back(&self) -> bool {
        self.pending.is_some() || (self.verifies && self.last_good.is_some())
    }

    pub fn json(&self) -> Value {
        json!({
            "may_roll_back": self.may_roll_back(),
            "last_good": self.last_good.as_ref().map(|g| g.recorded_at.to_string()),
            "pending": self.pending.as_ref().map(|p| p.why.describe()),
            "last": self.last.as_ref().map(|d| json!({
                "finished_at": d.finished_at.to_string(),
                "reason": d.why.describe(),
                "aliases": d.aliases,
                "removed": d.removed,
                "terraform": d.terraform,
            })),
        })
    }

    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(p) = &self.pending {
            out.push(format!(
                "a rollback did not finish ({}): the next `deploy all` or `deploy rollback` \
                 finishes it first",
                p.why.describe()
            ));
        } else if let (true, Some(g)) = (self.verifies, &self.last_good) {
            out.push(format!(
                "may roll back: should test-events fail, `deploy all` returns to the last good \
                 deployment {} and exits 11 (`--no-rollback` keeps the change)",
                g.describe()
            ));
        } else if self.verifies {
            out.push(
                "no last good deployment recorded: a failed verification leaves the change \
                 deployed"
                    .into(),
            );
        }
        if let Some(d) = &self.last {
            out.push(format!(
                "last rollback {}: {}; {}",
                d.finished_at
                    .round(jiff::Unit::Second)
                    .unwrap_or(d.finished_at),
                d.why.describe(),
                d.describe()
            ));
        }
        out
    }
}

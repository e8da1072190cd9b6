//! A rollback is checkpointed by a document: written before anything is restored, naming why
//! and where to return (a copy of the last good deployment, so that the target cannot move
//! under a rollback half done), removed once the rollback finished and was verified. A run
//! killed in between leaves it: the next `deploy all` or `deploy rollback` finishes it first.
//! What the last rollback did stays beside it, for `plan`, `status` and the `--json` stream.

use std::collections::BTreeMap;

use deploy_state::backend::Objects;
use deploy_state::{Ledger, LedgerState, ResourceKind};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::LastGood;
use crate::engine::StepError;

/// The document of a rollback not finished yet.
pub const PENDING_DOCUMENT: &str = "rollback/pending.json";
/// The document of what the last rollback did.
pub const DONE_DOCUMENT: &str = "rollback/last-rollback.json";

/// Why a rollback happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Why {
    /// The verification of a change failed: these checks (`route x -> lambda y: ...`).
    Verification { failed: Vec<String> },
    /// The operator asked (`deploy rollback`).
    Requested,
}

impl Why {
    /// One line: `verification failed: route ...` / `requested by the operator`.
    pub fn describe(&self) -> String {
        match self {
            Why::Verification { failed } if failed.is_empty() => {
                "the verification of the change failed".into()
            }
            Why::Verification { failed } => {
                format!(
                    "the verification of the change failed: {}",
                    failed.join("; ")
                )
            }
            Why::Requested => "requested by the operator (deploy rollback)".into(),
        }
    }

    /// The checks that failed (none when the operator asked).
    pub fn failed_checks(&self) -> &[String] {
        match self {
            Why::Verification { failed } => failed,
            Why::Requested => &[],
        }
    }
}

/// A rollback under way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub started_at: Timestamp,
    /// The command that decided it.
    pub by: String,
    pub why: Why,
    /// Where it returns.
    pub target: LastGood,
    /// Function name → the version its alias pointed at when the rollback was decided.
    #[serde(default)]
    pub from: BTreeMap<String, String>,
}

impl Pending {
    /// A rollback of the deployment `state` records to `target`.
    pub fn new(by: &str, why: Why, target: LastGood, state: &LedgerState) -> Pending {
        let from = state
            .resources(ResourceKind::Alias)
            .filter_map(|a| {
                Some((
                    a.attributes.function.clone()?,
                    a.attributes.version.clone()?,
                ))
            })
            .collect();
        Pending {
            started_at: Timestamp::now(),
            by: by.to_string(),
            why,
            target,
            from,
        }
    }

    /// `function: version A -> B` for each alias the rollback moves back.
    pub fn moved_aliases(&self) -> Vec<String> {
        self.target
            .aliases
            .iter()
            .filter_map(|(f, to)| {
                let from = self.from.get(f)?;
                (from != to).then(|| format!("{f}: version {from} -> {to}"))
            })
            .collect()
    }

    pub async fn load(objects: &dyn Objects) -> Option<Pending> {
        let read = objects.read(PENDING_DOCUMENT).await.ok()??;
        serde_json::from_slice(&read.bytes).ok()
    }

    /// Written before anything is restored.
    pub async fn save(&self, ledger: &Ledger) -> Result<(), StepError> {
        ledger.put_document(PENDING_DOCUMENT, &json(self)).await?;
        Ok(())
    }
}

/// What a finished rollback did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub finished_at: Timestamp,
    pub why: Why,
    /// When the deployment it returned to was recorded.
    pub returned_to: Timestamp,
    /// `function: version A -> B`, for each alias moved back.
    pub aliases: Vec<String>,
    /// What the change had added and the rollback removed (`target x of rule y`, ...).
    pub removed: Vec<String>,
    /// Terraform's summary of re-applying the last good variables.
    pub terraform: Option<String>,
}

impl Done {
    pub async fn load(objects: &dyn Objects) -> Option<Done> {
        let read = objects.read(DONE_DOCUMENT).await.ok()??;
        serde_json::from_slice(&read.bytes).ok()
    }

    /// Recorded, and the pending document removed: the rollback is over.
    pub async fn finish(&self, ledger: &Ledger) -> Result<(), StepError> {
        ledger.put_document(DONE_DOCUMENT, &json(self)).await?;
        ledger.delete_document(PENDING_DOCUMENT).await?;
        Ok(())
    }

    /// One line: what went back and what went.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.aliases.is_empty() {
            parts.push(format!("aliases back: {}", self.aliases.join(", ")));
        }
        if !self.removed.is_empty() {
            parts.push(format!("removed: {}", self.removed.join(", ")));
        }
        if let Some(t) = &self.terraform {
            parts.push(format!("terraform: {t}"));
        }
        if parts.is_empty() {
            "nothing differed from the last good deployment".into()
        } else {
            parts.join("; ")
        }
    }
}

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(v).expect("plain data serializes");
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn why_names_the_failed_checks() {
        let why = Why::Verification {
            failed: vec!["route a -> lambda f: 0 of 2 events delivered".into()],
        };
        assert!(why.describe().contains("route a -> lambda f"));
        assert_eq!(why.failed_checks().len(), 1);
        assert!(Why::Requested.describe().contains("deploy rollback"));
        let back: Why = serde_json::from_slice(&json(&why)).unwrap();
        assert_eq!(back, why);
    }
}

//! What a look-up found: whether a resource exists, and whether it works.

use deploy_state::{Resource, ResourceKind};
use serde::Serialize;

use super::lookups::Miss;

#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub kind: ResourceKind,
    pub name: String,
    pub created_by: String,
    /// `None` when existence could not be determined (the call failed for another reason).
    pub exists: Option<bool>,
    pub healthy: bool,
    pub detail: String,
    /// For a queue: messages waiting, and the age of the oldest one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_age_seconds: Option<u64>,
    /// How it differs from what was deployed (a re-run of its step repairs it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<String>,
    /// Existence is unknown for a reason that asking again may fix.
    #[serde(skip)]
    pub ask_again: bool,
}

impl Health {
    /// Nothing known yet about `r`.
    pub fn of(r: &Resource) -> Health {
        Health {
            kind: r.kind,
            name: r.name.clone(),
            created_by: r.created_by.clone(),
            exists: None,
            healthy: false,
            detail: String::new(),
            depth: None,
            oldest_age_seconds: None,
            drift: Vec::new(),
            ask_again: false,
        }
    }

    /// From a look-up's result: `healthy` judges what was found (and says why).
    pub fn from_result<T>(
        r: &Resource,
        result: Result<T, Miss>,
        healthy: impl FnOnce(&T) -> (bool, String),
    ) -> Health {
        let mut h = Health::of(r);
        match result {
            Ok(v) => {
                let (ok, detail) = healthy(&v);
                h.exists = Some(true);
                h.healthy = ok;
                h.detail = detail;
            }
            Err(Miss::NotFound) => {
                h.exists = Some(false);
                h.detail = "missing".into();
            }
            Err(Miss::Failed { why, transient }) => {
                h.detail = format!("could not check: {why}");
                h.ask_again = transient;
            }
        }
        h
    }

    /// Something that exists only as an entry in its parent (a target in its rule's list, a
    /// permission in its function's policy): `found` says whether the parent lists it.
    pub fn listed(r: &Resource, found: Result<bool, Miss>, present: &str) -> Health {
        let mut h = Health::from_result(r, found, |&found| {
            (found, if found { present } else { "missing" }.to_string())
        });
        if h.exists == Some(true) && !h.healthy {
            h.exists = Some(false);
        }
        h
    }

    /// Present, working, with `detail`.
    pub fn present(r: &Resource, detail: &str) -> Health {
        Health::from_result(r, Ok(()), |_| (true, detail.to_string()))
    }

    /// `kind name`.
    pub fn label(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }
}

/// Whether `state` is one of `good`, and the state for the detail.
pub fn state_in(good: &[&str], state: Option<&str>) -> (bool, String) {
    let state = state.unwrap_or_default();
    (good.contains(&state), format!("state {state}"))
}

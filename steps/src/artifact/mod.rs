//! Plan artifacts: what a reviewer saw is what gets applied, or it is refused.
//!
//! `deploy plan --out FILE` writes one file holding the deployment's identity and `deploy`'s
//! version, a digest of every input (the configuration, each schema and example, each Lambda
//! package, each stack file), the state's lineage, serial and stored version, Terraform's saved
//! plan of the expand phase with the changes it makes, the steps that would run and why, and a
//! fingerprint of the live attributes of every resource the plan changes, replaces or deletes.
//! `deploy all --plan FILE` applies exactly that, or refuses before changing anything, naming
//! every difference ([`verify::differences`]).

mod build;
mod encode;
mod inputs;
mod live;
pub mod markdown;
pub mod verify;

pub use build::make;
pub use encode::{read, write};
pub use inputs::inputs;

use std::collections::BTreeMap;

use deploy_state::{DeploymentId, Resource, ResourceKind};
use serde::{Deserialize, Serialize};

use crate::change::Pending;

/// The artifact's format; a reader refuses another.
pub const FORMAT: u32 = 1;

/// `deploy`'s version, recorded in every artifact.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the state was when the plan was made (`None` in a manifest: no state yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateAt {
    pub location: String,
    pub lineage: Option<String>,
    pub serial: u64,
    /// The stored object's version (an ETag on S3, a content digest locally).
    pub version: Option<String>,
}

/// One step's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    pub step: String,
    pub run: bool,
    pub reason: String,
}

/// One resource change of Terraform's saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: String,
    /// `create`, `update`, `delete`, `replace`.
    pub action: String,
}

/// A resource a plan touches, as the catalog looks it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Touched {
    pub kind: ResourceKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus: Option<String>,
    /// The plan creates it: its fingerprint is of its absence, so that one made meanwhile (which
    /// Terraform's create would take over: EventBridge's `PutRule` and SQS's `CreateQueue`
    /// answer an existing one as if they made it) makes the plan stale.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created: bool,
}

impl Touched {
    pub fn of(r: &Resource) -> Touched {
        Touched {
            kind: r.kind,
            name: r.name.clone(),
            bus: r.attributes.bus.clone(),
            created: false,
        }
    }

    /// A resource the plan creates.
    pub fn created(r: &Resource) -> Touched {
        Touched {
            created: true,
            ..Touched::of(r)
        }
    }

    pub fn resource(&self) -> Resource {
        let bus = self.bus.clone();
        Resource::new(self.kind, &self.name, "").with(|a| a.bus = bus)
    }
}

/// Everything the artifact says, besides Terraform's saved plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub deploy_version: String,
    pub deployment: DeploymentId,
    pub state: Option<StateAt>,
    /// Input name (`config`, `schemas/<file>`, `lambda/<key>`, `terraform/<file>`) → SHA-256.
    pub inputs: BTreeMap<String, String>,
    pub steps: Vec<PlannedStep>,
    /// Terraform's changes in the saved plan (empty: nothing to apply; the saved plan is there
    /// whenever the infrastructure step runs).
    pub changes: Vec<ResourceChange>,
    /// Every resource the plan creates, changes, replaces or deletes, and a digest of its live
    /// attributes when the plan was made (`kind name` → digest; of its absence for a create).
    pub touched: Vec<Touched>,
    pub live: BTreeMap<String, String>,
    /// What each step's live check found wrong when the plan was made (step → lines): one
    /// found since makes the plan stale.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub findings: BTreeMap<String, Vec<String>>,
    /// What a change expands and retires.
    pub change: Pending,
    /// Contract versions this deploy would ship, with their compatibility verdict.
    pub contracts: Vec<String>,
}

impl Manifest {
    /// Whether applying it would do nothing.
    pub fn is_noop(&self) -> bool {
        self.changes.is_empty() && self.steps.iter().all(|s| !s.run)
    }

    /// Whether the plan runs `step`.
    pub fn runs(&self, step: &str) -> bool {
        self.steps.iter().any(|s| s.step == step && s.run)
    }

    /// The summary counts of Terraform's changes: added, changed, replaced, destroyed.
    pub fn counts(&self) -> [usize; 4] {
        let n = |a: &str| self.changes.iter().filter(|c| c.action == a).count();
        [n("create"), n("update"), n("replace"), n("delete")]
    }
}

/// A plan artifact: the manifest and Terraform's saved plan (when infrastructure changes).
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    pub manifest: Manifest,
    pub tfplan: Option<Vec<u8>>,
}

impl Artifact {
    /// The artifact's identity: a digest of what it holds (also what the ledger records when it
    /// is applied).
    pub fn id(&self) -> String {
        let manifest = serde_json::to_vec(&self.manifest).expect("a manifest serializes");
        let mut fp = deploy_state::Fingerprint::new().bytes("manifest", &manifest);
        if let Some(plan) = &self.tfplan {
            fp = fp.bytes("tfplan", plan);
        }
        fp.digest()
    }
}

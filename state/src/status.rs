//! What the ledger says about each step and each owned resource.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::deployment::DeploymentId;
pub use crate::resource::{Attributes, Resource, ResourceKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    #[default]
    NotStarted,
    InProgress,
    Completed,
    Failed,
    Interrupted,
    Skipped,
    Stale,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::NotStarted => "not_started",
            StepStatus::InProgress => "in_progress",
            StepStatus::Completed => "completed",
            StepStatus::Failed => "failed",
            StepStatus::Interrupted => "interrupted",
            StepStatus::Skipped => "skipped",
            StepStatus::Stale => "stale",
        }
    }
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the ledger knows about one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StepRecord {
    pub status: StepStatus,
    /// Digest of the inputs the step last completed (or started) with.
    pub fingerprint: Option<String>,
    /// The digest of each input component, so a change can be named.
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
    /// Attempts in the most recent run of the step.
    pub attempts: u32,
    /// AWS requests of the most recent run that had to be sent again (throttling, 5xx,
    /// dropped connections).
    #[serde(default)]
    pub api_retries: u64,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub duration_ms: Option<u64>,
    pub last_error: Option<String>,
    #[serde(default)]
    pub outputs: BTreeMap<String, String>,
    /// Why the step is stale or was skipped, when it is.
    pub note: Option<String>,
    /// What the last completed run did, in one line (`16 added, 0 changed, 0 destroyed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Path of the log of the most recent run, relative to the ledger directory.
    pub log: Option<String>,
}

/// An emulator that `deploy --local` started and may stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmulatorRecord {
    pub kind: String,
    pub endpoint: String,
    pub pid: Option<u32>,
    pub port: u16,
    pub started_at: Timestamp,
    /// Whether `deploy` started it (and so may stop it).
    pub started_by_deploy: bool,
    /// The process start time as the kernel reports it, to tell a reused pid apart.
    pub process_start: Option<u64>,
}

pub const SCHEMA_VERSION: u32 = 1;

/// How many lines went to `errors.log` and `warnings.log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LogCounts {
    pub errors: u64,
    pub warnings: u64,
}

/// Shipped contract versions: event type → version number → SHA-256 of its schema file.
pub type Contracts = BTreeMap<String, BTreeMap<u32, String>>;

/// The machine-readable source of truth, `state.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerState {
    pub schema_version: u32,
    /// The deployment this ledger belongs to (absent only in a ledger of an older release,
    /// until its first write).
    #[serde(default)]
    pub identity: Option<DeploymentId>,
    /// Minted when the ledger is first written; never changes (as Terraform's lineage).
    #[serde(default)]
    pub lineage: Option<String>,
    /// Incremented by every write.
    #[serde(default)]
    pub serial: u64,
    #[serde(default)]
    pub steps: BTreeMap<String, StepRecord>,
    #[serde(default)]
    pub inventory: Vec<Resource>,
    /// Set when a teardown finished; cleared by the next deploy.
    #[serde(default)]
    pub destroyed_at: Option<Timestamp>,
    /// Who destroyed it: the command and the host it ran on.
    #[serde(default)]
    pub destroyed_by: Option<String>,
    /// What the last teardown deleted: `status --live` reports any of it that still exists.
    #[serde(default)]
    pub retired: Vec<Resource>,
    #[serde(default)]
    pub log_counts: LogCounts,
    /// The contract versions this deployment has shipped: event type → version → SHA-256 of
    /// the schema file. Shipped versions are immutable.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub contracts: Contracts,
    /// The plan artifacts applied (`deploy all --plan`), by id: one is never applied twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_plans: Vec<String>,
    /// The command that last changed the ledger (`deploy all`, `deploy destroy`).
    #[serde(default)]
    pub updated_by: Option<String>,
    pub updated_at: Option<Timestamp>,
}

impl Default for LedgerState {
    fn default() -> Self {
        LedgerState {
            schema_version: SCHEMA_VERSION,
            identity: None,
            lineage: None,
            serial: 0,
            steps: BTreeMap::new(),
            inventory: Vec::new(),
            destroyed_at: None,
            destroyed_by: None,
            retired: Vec::new(),
            log_counts: LogCounts::default(),
            contracts: Contracts::new(),
            applied_plans: Vec::new(),
            updated_by: None,
            updated_at: None,
        }
    }
}

impl LedgerState {
    /// Adds shipped versions; a version shipped before keeps its first hash.
    pub fn ship_contracts(&mut self, versions: &Contracts) {
        for (event, shipped) in versions {
            let known = self.contracts.entry(event.clone()).or_default();
            for (n, sha) in shipped {
                known.entry(*n).or_insert_with(|| sha.clone());
            }
        }
    }

    pub fn step(&self, name: &str) -> StepRecord {
        self.steps.get(name).cloned().unwrap_or_default()
    }

    /// Adds `r`, replacing an entry with the same identity.
    pub fn record_resource(&mut self, r: Resource) {
        self.inventory.retain(|x| !x.same_identity(&r));
        self.inventory.push(r);
    }

    /// Moves the resources of `kind` named `name` from the inventory to the retired ones;
    /// returns whether there were any.
    pub fn forget_resource(&mut self, kind: ResourceKind, name: &str) -> bool {
        self.forget_on(kind, name, None)
    }

    /// As [`Self::forget_resource`], and with `rule`, only the one on that rule (a target id is
    /// unique per rule, not per deployment).
    pub fn forget_on(&mut self, kind: ResourceKind, name: &str, rule: Option<&str>) -> bool {
        let matches = |x: &Resource| {
            x.kind == kind
                && x.name == name
                && rule.is_none_or(|r| x.attributes.rule.as_deref() == Some(r))
        };
        let (gone, kept): (Vec<Resource>, Vec<Resource>) = std::mem::take(&mut self.inventory)
            .into_iter()
            .partition(|x| matches(x));
        self.inventory = kept;
        let any = !gone.is_empty();
        self.retired.extend(gone);
        any
    }

    pub fn resources(&self, kind: ResourceKind) -> impl Iterator<Item = &Resource> {
        self.inventory.iter().filter(move |r| r.kind == kind)
    }
}

//! The hub's content as data: event types, routes and their targets.

use deploy_contracts::Mode;
use serde::Serialize;

/// An event type: what its events carry in `source` and `detail-type`, and how its versioned
/// contract (`schemas/<key>/vN.json`) may evolve.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EventType {
    pub key: String,
    pub source: String,
    pub detail_type: String,
    /// How a new version must relate to the earlier ones (`backward` by default).
    pub compatibility: Mode,
}

/// A route: one rule on the bus, and where what it matches goes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Route {
    pub key: String,
    /// `<environment>-<key>`.
    pub rule_name: String,
    pub description: String,
    /// The event types it names (empty when it is given as a raw `pattern`).
    pub events: Vec<String>,
    /// The event pattern, as canonical JSON (keys sorted, compact).
    pub pattern: String,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Target {
    /// The target's id on its rule (unique per route).
    pub id: String,
    pub kind: TargetKind,
    /// EventBridge's retry policy: attempts (0-185) and the oldest event it still delivers
    /// (60-86400 s); the service defaults when absent.
    pub retry_attempts: Option<u32>,
    pub max_event_age_seconds: Option<u32>,
    /// Undeliverable events go to the hub's dead-letter queue (the default), or are dropped.
    pub dead_letter: bool,
    pub input_transformer: Option<InputTransformer>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetKind {
    /// A function of `[lambdas.<key>]`, wired by the `lambdas` step.
    Lambda {
        key: String,
    },
    /// A queue this deployment creates, named `<environment>-<key>`.
    Sqs {
        key: String,
        queue_name: String,
    },
    SqsArn {
        arn: String,
    },
    StateMachineArn {
        arn: String,
    },
    BusArn {
        arn: String,
    },
}

impl TargetKind {
    /// The key a target of this kind is written with in deploy.toml.
    pub fn key(&self) -> &'static str {
        match self {
            TargetKind::Lambda { .. } => "lambda",
            TargetKind::Sqs { .. } => "sqs",
            TargetKind::SqsArn { .. } => "sqs_arn",
            TargetKind::StateMachineArn { .. } => "state_machine_arn",
            TargetKind::BusArn { .. } => "bus_arn",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InputTransformer {
    pub input_paths: std::collections::BTreeMap<String, String>,
    pub input_template: String,
}

/// The line that starts the hub's part of a `deploy.toml`: everything from it to the end is the
/// event types and routes (`deploy init` copies the checked-in hub from there).
pub const HUB_MARKER: &str = "# ---- The hub:";

/// The hub's part of a `deploy.toml` text: from [`HUB_MARKER`] to the end.
pub fn hub_section(text: &str) -> Option<&str> {
    let at = text.find(HUB_MARKER)?;
    Some(&text[at..])
}

/// The checked-in `deploy.toml`'s hub: the starting content of a new project.
pub fn starter_hub() -> &'static str {
    hub_section(include_str!("../../deploy.toml")).expect("deploy.toml has the hub marker")
}

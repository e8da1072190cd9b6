//! The resolved configuration: every default derived, every value validated.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::hub::{EventType, Route, TargetKind};

/// The IAM roles the stack creates, by their Terraform resource name (`aws_iam_role.<name>`):
/// each is named `<environment>-<suffix>` (terraform/iam.tf).
pub const STACK_ROLES: [(&str, &str); 4] = [
    ("publisher", "event-publisher-role"),
    ("processor", "event-processor-role"),
    ("dlq", "eventbridge-dlq-role"),
    ("targets", "eventbridge-targets-role"),
];

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// The file this was loaded from (may not exist: then everything is a default).
    pub path: PathBuf,
    /// Directory relative paths in the file are resolved against (the file's directory).
    pub base_dir: PathBuf,
    pub project: Project,
    pub eventbus: EventBus,
    pub dlq: Dlq,
    pub schemas: Schemas,
    pub lambdas: Vec<Lambda>,
    /// The hub's event types, and its routes (rules) with their targets.
    pub events: Vec<EventType>,
    pub routes: Vec<Route>,
    pub terraform: Terraform,
    pub aws: Aws,
    pub iam: IamMode,
    pub retry: Retry,
    pub tests: Tests,
    /// Where the deployment's state (the ledger) is kept.
    pub state: StateConfig,
    /// `--local`: run against a local emulator.
    pub local: bool,
    /// Things in the file that are allowed but probably not meant, one line each, e.g. a
    /// name pinned to another environment's derived name. Print them; they are not errors.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Project {
    pub name: String,
    pub environment: String,
    pub region: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EventBus {
    pub name: String,
    pub archive_name: String,
    /// 0 keeps archived events indefinitely (as AWS does).
    pub archive_retention_days: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Dlq {
    pub name: String,
    pub retention_days: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Schemas {
    pub registry: bool,
    pub registry_name: String,
    /// When true, a schema-registry authorization failure is a warning, not a failure.
    pub optional: bool,
    pub dir: PathBuf,
    pub examples_dir: PathBuf,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Lambda {
    /// The key under `[lambdas.<key>]`, e.g. `event-logger`.
    pub key: String,
    pub source: PathBuf,
    pub function_name: String,
    pub runtime: String,
    pub handler: String,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    /// Whether this function consumes the dead-letter queue.
    pub dead_letter_queue: bool,
    /// How often Lambda retries a failed asynchronous invocation (0-2) before it goes to the
    /// on-failure destination (the dead-letter queue).
    pub async_retry_attempts: u32,
    /// How long an asynchronous invocation may wait to be run, in seconds (60-21600).
    pub async_max_event_age_seconds: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Terraform {
    /// `terraform`, `tofu`, or a path to either.
    pub binary: String,
    pub dir: PathBuf,
    pub plugin_mirror: Option<PathBuf>,
    /// The most operations terraform runs at once (`-parallelism`) in `apply` and `destroy`;
    /// each run asks for fewer when it changes fewer resources that wait.
    pub parallelism: u32,
}

/// `[terraform] parallelism` when it is not given (why this number: `BENCHMARKS.md`, "The hub
/// at scale with queue consumers").
pub const DEFAULT_PARALLELISM: u32 = 128;

/// The largest `[terraform] parallelism` accepted.
pub const MAX_PARALLELISM: i64 = 1000;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Aws {
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum IamMode {
    Auto,
    UserPolicy,
    Skip,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Retry {
    pub max_elapsed: Duration,
    pub initial_delay: Duration,
    pub max_delay: Duration,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tests {
    pub delivery_timeout: Duration,
}

/// Where the state is kept: `[state]`.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum StateBackend {
    /// `.deployment-state/` next to the file (or `DEPLOY_STATE_DIR`).
    Local,
    /// An S3 bucket, with a lease-based lock.
    S3,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StateConfig {
    pub backend: StateBackend,
    /// `None`: derived at run time with [`default_state_bucket`] (it needs the account).
    pub bucket: Option<String>,
    /// Key prefix in the bucket: always ends with '/', never starts with '/'.
    /// Default `<project.name>/<project.environment>/`.
    pub prefix: String,
    /// `None`: the project's region.
    pub region: Option<String>,
    pub kms_key_id: Option<String>,
    /// `lock_lease_seconds`: how long a lock holder may go without renewing.
    pub lock_lease: Duration,
}

/// The state bucket used when none is configured: `{project}-state-{account}-{region}`.
///
/// The project part is shortened (trailing '-' trimmed) so the whole fits S3's 63 characters,
/// and a leading prefix S3 reserves (`xn--`, `sthree-`, `amzn-s3-demo-`) is dropped from it.
/// Two projects that shorten to the same bucket still keep separate state: the key prefix
/// names the whole project. For a valid project name, a 12-digit account and a valid region
/// the result satisfies [`crate::validate::bucket_name_problem`].
pub fn default_state_bucket(project: &str, account: &str, region: &str) -> String {
    const MAX: usize = 63;
    let tail = format!("state-{account}-{region}");
    let mut head = project;
    while let Some(rest) = crate::validate::RESERVED_BUCKET_PREFIXES
        .iter()
        .find_map(|p| head.strip_prefix(p))
    {
        head = rest;
    }
    let head = head.trim_start_matches(['-', '.']);
    // Room for the project part and the '-' that joins it to the tail.
    let room = MAX.saturating_sub(tail.len() + 1);
    let head = first_chars(head, room).trim_end_matches(['-', '.']);
    let name = if head.is_empty() {
        tail
    } else {
        format!("{head}-{tail}")
    };
    // Longer only with a region longer than any AWS has: keep the name usable anyway.
    first_chars(&name, MAX)
        .trim_end_matches(['-', '.'])
        .to_string()
}

fn first_chars(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

impl Config {
    /// The rule of every route.
    pub fn rule_names(&self) -> Vec<String> {
        self.routes.iter().map(|r| r.rule_name.clone()).collect()
    }

    /// The routes that have `lambda` (a `[lambdas]` key) as a target.
    pub fn lambda_routes(&self, lambda: &str) -> Vec<&Route> {
        self.routes
            .iter()
            .filter(|r| {
                r.targets
                    .iter()
                    .any(|t| matches!(&t.kind, TargetKind::Lambda { key } if key == lambda))
            })
            .collect()
    }

    /// The queues routes deliver to that this deployment creates (`{ sqs = "<key>" }`), by name.
    pub fn consumer_queues(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .routes
            .iter()
            .flat_map(|r| &r.targets)
            .filter_map(|t| match &t.kind {
                TargetKind::Sqs { queue_name, .. } => Some(queue_name.clone()),
                _ => None,
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Whether a route delivers to a state machine or another bus (EventBridge then needs a
    /// role to do it).
    pub fn needs_targets_role(&self) -> bool {
        self.routes.iter().flat_map(|r| &r.targets).any(|t| {
            matches!(
                t.kind,
                TargetKind::StateMachineArn { .. } | TargetKind::BusArn { .. }
            )
        })
    }

    /// The IAM roles the stack creates: three always, and the targets' role when a route
    /// needs it.
    pub fn role_names(&self) -> Vec<String> {
        STACK_ROLES
            .iter()
            .filter(|(role, _)| *role != "targets" || self.needs_targets_role())
            .filter_map(|(role, _)| self.stack_role_name(role))
            .collect()
    }

    /// The name the stack gives its role `role` (the Terraform resource name of `aws_iam_role`:
    /// `publisher`, `processor`, `dlq`, `targets`).
    pub fn stack_role_name(&self, role: &str) -> Option<String> {
        let (_, suffix) = STACK_ROLES.iter().find(|(r, _)| *r == role)?;
        Some(format!("{}-{suffix}", self.project.environment))
    }

    /// The inline policy the `iam` step puts on an IAM user.
    pub fn deployer_policy_name(&self) -> String {
        format!(
            "{}-{}-deployer",
            self.project.name, self.project.environment
        )
    }
}

/// The endpoint `--local` uses when the configuration names none.
pub const DEFAULT_LOCAL_ENDPOINT: &str = "http://127.0.0.1:4566";

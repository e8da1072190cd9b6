//! The resolved configuration: every default derived, every value validated.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

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
    pub terraform: Terraform,
    pub aws: Aws,
    pub iam: IamMode,
    pub retry: Retry,
    pub tests: Tests,
    /// `--local`: run against a local emulator.
    pub local: bool,
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
    /// The rule whose target this function is.
    pub rule: Option<String>,
    /// Whether this function consumes the dead-letter queue.
    pub dead_letter_queue: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Terraform {
    /// `terraform`, `tofu`, or a path to either.
    pub binary: String,
    pub dir: PathBuf,
    pub plugin_mirror: Option<PathBuf>,
}

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

impl Config {
    /// Names of all seven routing rules, derived from the environment.
    pub fn rule_names(&self) -> Vec<String> {
        RULE_SUFFIXES
            .iter()
            .map(|s| format!("{}-{s}", self.project.environment))
            .collect()
    }

    pub fn logger_rule_name(&self) -> String {
        format!("{}-all-events-to-logger", self.project.environment)
    }

    /// The three IAM roles the stack creates.
    pub fn role_names(&self) -> Vec<String> {
        let env = &self.project.environment;
        [
            "event-publisher-role",
            "event-processor-role",
            "eventbridge-dlq-role",
        ]
        .iter()
        .map(|s| format!("{env}-{s}"))
        .collect()
    }

    /// The inline policy the `iam` step puts on an IAM user.
    pub fn deployer_policy_name(&self) -> String {
        format!(
            "{}-{}-deployer",
            self.project.name, self.project.environment
        )
    }
}

pub const RULE_SUFFIXES: [&str; 7] = [
    "audio-uploaded-to-transcription",
    "transcription-completed-to-search",
    "transcription-completed-to-notifications",
    "document-uploaded-to-ocr",
    "video-uploaded-to-thumbnail",
    "user-registered-to-welcome",
    "all-events-to-logger",
];

/// The endpoint `--local` uses when the configuration names none.
pub const DEFAULT_LOCAL_ENDPOINT: &str = "http://127.0.0.1:4566";

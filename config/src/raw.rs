//! The file as written: every value optional, every table closed to unknown keys.
//!
//! Values that are validated later keep their position in the file (`Spanned`) so that a
//! validation error can name the line and column, not only the key.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub type S<T> = Option<Spanned<T>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub project: RawProject,
    #[serde(default)]
    pub eventbus: RawEventBus,
    #[serde(default)]
    pub dlq: RawDlq,
    #[serde(default)]
    pub schemas: RawSchemas,
    #[serde(default)]
    pub lambdas: BTreeMap<String, Spanned<RawLambda>>,
    #[serde(default)]
    pub terraform: RawTerraform,
    #[serde(default)]
    pub aws: RawAws,
    #[serde(default)]
    pub iam: RawIam,
    #[serde(default)]
    pub retry: RawRetry,
    #[serde(default)]
    pub tests: RawTests,
    #[serde(default)]
    pub state: RawState,
    #[serde(default)]
    pub events: BTreeMap<String, Spanned<RawEvent>>,
    #[serde(default)]
    pub routes: BTreeMap<String, Spanned<RawRoute>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub source: S<String>,
    pub detail_type: S<String>,
    pub compatibility: S<String>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub description: Option<String>,
    pub events: S<Vec<String>>,
    pub pattern: S<String>,
    pub detail: S<String>,
    pub targets: Option<Vec<Spanned<RawTarget>>>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub lambda: Option<String>,
    pub sqs: Option<String>,
    pub sqs_arn: Option<String>,
    pub state_machine_arn: Option<String>,
    pub bus_arn: Option<String>,
    pub id: Option<String>,
    pub retry_attempts: Option<i64>,
    pub max_event_age_seconds: Option<i64>,
    pub dead_letter: Option<bool>,
    pub input_transformer: Option<RawInputTransformer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInputTransformer {
    pub input_paths: Option<BTreeMap<String, String>>,
    pub input_template: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProject {
    pub name: S<String>,
    pub environment: S<String>,
    pub region: S<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEventBus {
    pub name: S<String>,
    pub archive_retention_days: S<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDlq {
    pub name: S<String>,
    pub retention_days: S<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchemas {
    pub registry: Option<bool>,
    pub registry_name: S<String>,
    pub optional: Option<bool>,
    pub dir: Option<String>,
    pub examples_dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLambda {
    pub enabled: Option<bool>,
    pub source: Option<String>,
    pub function_name: S<String>,
    pub runtime: S<String>,
    pub handler: Option<String>,
    pub memory: S<i64>,
    pub timeout: S<i64>,
    pub rule: S<String>,
    pub dead_letter_queue: Option<bool>,
    pub async_retry_attempts: S<i64>,
    pub async_max_event_age_seconds: S<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTerraform {
    pub binary: S<String>,
    pub dir: Option<String>,
    pub plugin_mirror: Option<String>,
    pub parallelism: S<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAws {
    pub profile: Option<String>,
    pub endpoint_url: S<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIam {
    pub mode: S<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub max_elapsed_seconds: S<f64>,
    pub initial_delay_ms: S<i64>,
    pub max_delay_seconds: S<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTests {
    pub delivery_timeout_seconds: S<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    pub backend: S<String>,
    pub bucket: S<String>,
    pub prefix: S<String>,
    pub region: S<String>,
    pub kms_key_id: S<String>,
    pub lock_lease_seconds: S<i64>,
}

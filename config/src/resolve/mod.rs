//! From the file as written (plus environment overrides) to a validated [`Config`]: finding and
//! reading the file here, and putting the sections together; each section is resolved in a
//! module of its own, single values in [`values`].

use std::path::{Path, PathBuf};

use crate::error::{ConfigError, Source};
use crate::model::*;
use crate::raw::*;

mod hub;
mod lambdas;
mod project;
mod state;
mod tooling;
mod values;
mod warnings;

/// Values that beat the file: environment variables and command-line flags.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `DEPLOY_ENVIRONMENT`
    pub environment: Option<String>,
    /// `DEPLOY_REGION`
    pub region: Option<String>,
    /// `AWS_PROFILE`
    pub profile: Option<String>,
    /// `AWS_ENDPOINT_URL`
    pub endpoint_url: Option<String>,
    /// `DEPLOY_TERRAFORM_PLUGIN_MIRROR`
    pub plugin_mirror: Option<String>,
    /// `DEPLOY_STATE_BUCKET`: keep the state in this S3 bucket (selects the s3 backend).
    pub state_bucket: Option<String>,
    /// `AWS_REGION` / `AWS_DEFAULT_REGION`: used only when the file names no region.
    pub ambient_region: Option<String>,
    /// `--local`
    pub local: bool,
}

impl Overrides {
    /// Reads the documented environment variables.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Overrides {
            environment: var("DEPLOY_ENVIRONMENT"),
            region: var("DEPLOY_REGION"),
            profile: var("AWS_PROFILE"),
            endpoint_url: var("AWS_ENDPOINT_URL"),
            plugin_mirror: var("DEPLOY_TERRAFORM_PLUGIN_MIRROR"),
            state_bucket: var("DEPLOY_STATE_BUCKET"),
            ambient_region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            local: false,
        }
    }
}

/// The name of the configuration file.
pub const FILE_NAME: &str = "deploy.toml";

/// `deploy.toml` in `start` or the nearest directory above it (as cargo finds `Cargo.toml`).
pub fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// Loads `path`. A missing file is an error only when `required` (an explicit `--config`);
/// otherwise every value takes its default.
pub fn load(path: &Path, required: bool, overrides: &Overrides) -> Result<Config, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => String::new(),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    parse(path, &text, overrides)
}

/// Parses and validates configuration text that came from `path`.
pub fn parse(path: &Path, text: &str, overrides: &Overrides) -> Result<Config, ConfigError> {
    let src = Source { path, text };
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::from_toml(&src, &e))?;
    let base_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Resolver {
        src,
        base_dir,
        overrides,
    }
    .resolve(raw)
}

struct Resolver<'a> {
    src: Source<'a>,
    base_dir: PathBuf,
    overrides: &'a Overrides,
}

impl Resolver<'_> {
    fn resolve(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let project = self.project(&raw.project)?;
        let env = project.environment.clone();
        let eventbus = self.eventbus(&raw.eventbus, &env)?;
        let dlq = Dlq {
            name: self.name_or("dlq.name", &raw.dlq.name, format!("{env}-eventbridge-dlq"))?,
            retention_days: self.int_in(
                "dlq.retention_days",
                &raw.dlq.retention_days,
                14,
                1,
                14,
            )?,
        };
        let local = self.overrides.local;
        let schemas = Schemas {
            registry: raw.schemas.registry.unwrap_or(true) && !local,
            registry_name: self.name_or(
                "schemas.registry_name",
                &raw.schemas.registry_name,
                format!("{env}-event-schemas"),
            )?,
            optional: raw.schemas.optional.unwrap_or(true),
            dir: self.path_or(raw.schemas.dir.as_deref(), "schemas"),
            examples_dir: self.path_or(raw.schemas.examples_dir.as_deref(), "examples"),
        };
        let lambdas = self.lambdas(&raw, &env)?;
        let (events, mut routes) = self.hub(&raw, &env, &project.region, &lambdas)?;
        self.lambda_rules(&raw, &env, &lambdas, &mut routes)?;
        let terraform = self.terraform(&raw.terraform)?;
        let aws = self.aws(&raw.aws)?;
        let iam = self.iam(&raw.iam)?;
        let retry = self.retry(&raw.retry)?;
        let tests = Tests {
            delivery_timeout: self.seconds(
                "tests.delivery_timeout_seconds",
                &raw.tests.delivery_timeout_seconds,
                30.0,
            )?,
        };
        let state = self.state(&raw.state, &project)?;
        let env_source = if self.overrides.environment.is_some() {
            "DEPLOY_ENVIRONMENT"
        } else if raw.project.environment.is_some() {
            "project.environment"
        } else {
            "the default"
        };
        let route_keys: Vec<String> = routes.iter().map(|r| r.key.clone()).collect();
        let warnings = self.warnings(&raw, &project, env_source, &route_keys);
        Ok(Config {
            path: self.src.path.to_path_buf(),
            base_dir: self.base_dir.clone(),
            project,
            eventbus,
            dlq,
            schemas,
            lambdas,
            events,
            routes,
            terraform,
            aws,
            iam,
            retry,
            tests,
            state,
            local,
            warnings,
        })
    }
}

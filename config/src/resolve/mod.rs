//! From the file as written (plus environment overrides) to a validated [`Config`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use crate::error::{ConfigError, Source};
use crate::model::*;
use crate::raw::*;
use crate::validate as v;

mod hub;
mod state;
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

    fn project(&self, raw: &RawProject) -> Result<Project, ConfigError> {
        let environment = self.overridable(
            "project.environment",
            "DEPLOY_ENVIRONMENT",
            &raw.environment,
            self.overrides.environment.as_deref(),
            "dev",
            v::environment,
        )?;
        let ambient = self
            .overrides
            .ambient_region
            .as_deref()
            .unwrap_or("us-east-1");
        let region = self.overridable(
            "project.region",
            "DEPLOY_REGION",
            &raw.region,
            self.overrides.region.as_deref(),
            ambient,
            v::region,
        )?;
        let name = self.checked(
            "project.name",
            &raw.name,
            "eventbridge-hub",
            v::project_name,
        )?;
        Ok(Project {
            name,
            environment,
            region,
        })
    }

    fn eventbus(&self, raw: &RawEventBus, env: &str) -> Result<EventBus, ConfigError> {
        let name = self.checked(
            "eventbus.name",
            &raw.name,
            &format!("{env}-application-events"),
            v::bus_name,
        )?;
        let retention = self.int_in(
            "eventbus.archive_retention_days",
            &raw.archive_retention_days,
            7,
            0,
            36500,
        )?;
        Ok(EventBus {
            name,
            archive_name: format!("{env}-event-archive"),
            archive_retention_days: retention,
        })
    }

    fn lambdas(&self, raw: &RawConfig, env: &str) -> Result<Vec<Lambda>, ConfigError> {
        let mut keys: Vec<&str> = vec!["event-logger", "dead-letter-processor"];
        for key in raw.lambdas.keys() {
            if !keys.contains(&key.as_str()) {
                keys.push(key);
            }
        }
        let mut out = Vec::new();
        for key in keys {
            let given = raw.lambdas.get(key).map(Spanned::get_ref);
            let empty = RawLambda::default();
            let l = given.unwrap_or(&empty);
            if l.enabled == Some(false) {
                continue;
            }
            let k = |field: &str| format!("lambdas.{key}.{field}");
            if !v::is_identifier(key) {
                let span = raw.lambdas.get(key).map(Spanned::span);
                return Err(ConfigError::invalid(
                    &self.src,
                    span,
                    &format!("lambdas.{key}"),
                    format!("`{key}` is not a usable function key"),
                    "lower-case letters, digits and '-', starting with a letter",
                ));
            }
            out.push(Lambda {
                key: key.to_string(),
                source: self.path_or(l.source.as_deref(), &format!("lambdas/{key}")),
                function_name: self.checked(
                    &k("function_name"),
                    &l.function_name,
                    &format!("{env}-{key}"),
                    v::function_name,
                )?,
                runtime: self.checked(&k("runtime"), &l.runtime, "nodejs20.x", v::runtime)?,
                handler: l.handler.clone().unwrap_or_else(|| "index.handler".into()),
                memory_mb: self.int_in(&k("memory"), &l.memory, 256, 128, 10240)?,
                timeout_seconds: self.int_in(&k("timeout"), &l.timeout, 30, 1, 900)?,
                dead_letter_queue: l
                    .dead_letter_queue
                    .unwrap_or(key == "dead-letter-processor"),
            });
        }
        Ok(out)
    }

    /// `[lambdas.<key>] rule` (the earlier way to wire a function): the route it names (by key,
    /// or by its rule name) gets the function as a target.
    fn lambda_rules(
        &self,
        raw: &RawConfig,
        env: &str,
        lambdas: &[Lambda],
        routes: &mut [crate::hub::Route],
    ) -> Result<(), ConfigError> {
        for l in lambdas {
            let Some(rule) = raw
                .lambdas
                .get(&l.key)
                .and_then(|r| r.get_ref().rule.as_ref())
            else {
                continue;
            };
            let name = rule.get_ref();
            let key = name.strip_prefix(&format!("{env}-")).unwrap_or(name);
            // By key, by rule name, or by a rule name of another environment (warned about).
            let Some(route) = routes.iter_mut().find(|r| {
                r.key == key || &r.rule_name == name || name.ends_with(&format!("-{}", r.key))
            }) else {
                return Err(ConfigError::invalid(
                    &self.src,
                    Some(rule.span()),
                    &format!("lambdas.{}.rule", l.key),
                    format!("`{name}` is not a route of this hub"),
                    routes
                        .iter()
                        .map(|r| r.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
            };
            let wired = route.targets.iter().any(
                |t| matches!(&t.kind, crate::hub::TargetKind::Lambda { key } if key == &l.key),
            );
            if !wired {
                route.targets.push(crate::hub::Target {
                    id: l.key.clone(),
                    kind: crate::hub::TargetKind::Lambda { key: l.key.clone() },
                    retry_attempts: None,
                    max_event_age_seconds: None,
                    dead_letter: true,
                    input_transformer: None,
                });
            }
        }
        Ok(())
    }

    fn terraform(&self, raw: &RawTerraform) -> Result<Terraform, ConfigError> {
        let binary = self.checked("terraform.binary", &raw.binary, "terraform", v::non_empty)?;
        let mirror = self
            .overrides
            .plugin_mirror
            .as_deref()
            .or(raw.plugin_mirror.as_deref())
            .map(|p| self.path_or(Some(p), p));
        Ok(Terraform {
            binary,
            dir: self.path_or(raw.dir.as_deref(), "terraform"),
            plugin_mirror: mirror,
        })
    }

    fn aws(&self, raw: &RawAws) -> Result<Aws, ConfigError> {
        let endpoint_url = match (&self.overrides.endpoint_url, &raw.endpoint_url) {
            (Some(url), _) => Some(v::endpoint(url).map_err(|(problem, allowed)| {
                ConfigError::invalid(
                    &self.src,
                    None,
                    "aws.endpoint_url (from AWS_ENDPOINT_URL)",
                    problem,
                    allowed,
                )
            })?),
            (None, Some(url)) => {
                Some(self.check_value("aws.endpoint_url", url, |s: &String| v::endpoint(s))?)
            }
            (None, None) if self.overrides.local => Some(DEFAULT_LOCAL_ENDPOINT.to_string()),
            (None, None) => None,
        };
        Ok(Aws {
            profile: self
                .overrides
                .profile
                .clone()
                .or_else(|| raw.profile.clone()),
            endpoint_url,
        })
    }

    fn iam(&self, raw: &RawIam) -> Result<IamMode, ConfigError> {
        let Some(mode) = &raw.mode else {
            return Ok(IamMode::Auto);
        };
        match mode.get_ref().as_str() {
            "auto" => Ok(IamMode::Auto),
            "user-policy" => Ok(IamMode::UserPolicy),
            "skip" => Ok(IamMode::Skip),
            other => Err(ConfigError::invalid(
                &self.src,
                Some(mode.span()),
                "iam.mode",
                format!("unknown mode `{other}`"),
                "\"auto\", \"user-policy\" or \"skip\"",
            )),
        }
    }

    fn retry(&self, raw: &RawRetry) -> Result<Retry, ConfigError> {
        Ok(Retry {
            max_elapsed: self.seconds(
                "retry.max_elapsed_seconds",
                &raw.max_elapsed_seconds,
                120.0,
            )?,
            initial_delay: Duration::from_millis(u64::from(self.int_in(
                "retry.initial_delay_ms",
                &raw.initial_delay_ms,
                500,
                1,
                600_000,
            )?)),
            max_delay: self.seconds("retry.max_delay_seconds", &raw.max_delay_seconds, 20.0)?,
        })
    }
}

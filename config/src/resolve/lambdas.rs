//! `[lambdas]`: the functions the hub deploys (the two built-in ones first), and the earlier
//! `rule` that wires a function to a route.

use toml::Spanned;

use super::Resolver;
use crate::error::ConfigError;
use crate::hub::{Route, Target, TargetKind};
use crate::model::Lambda;
use crate::raw::{RawConfig, RawLambda};
use crate::validate as v;

/// Lambda's own defaults for asynchronous invocations: two retries, six hours.
pub const ASYNC_RETRY_ATTEMPTS: u32 = 2;
pub const ASYNC_MAX_EVENT_AGE_SECONDS: u32 = 21_600;

impl Resolver<'_> {
    pub(super) fn lambdas(&self, raw: &RawConfig, env: &str) -> Result<Vec<Lambda>, ConfigError> {
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
                async_retry_attempts: self.int_in(
                    &k("async_retry_attempts"),
                    &l.async_retry_attempts,
                    ASYNC_RETRY_ATTEMPTS,
                    0,
                    2,
                )?,
                async_max_event_age_seconds: self.int_in(
                    &k("async_max_event_age_seconds"),
                    &l.async_max_event_age_seconds,
                    ASYNC_MAX_EVENT_AGE_SECONDS,
                    60,
                    21_600,
                )?,
            });
        }
        Ok(out)
    }

    /// `[lambdas.<key>] rule` (the earlier way to wire a function): the route it names (by key,
    /// or by its rule name) gets the function as a target.
    pub(super) fn lambda_rules(
        &self,
        raw: &RawConfig,
        env: &str,
        lambdas: &[Lambda],
        routes: &mut [Route],
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
            let wired = route
                .targets
                .iter()
                .any(|t| matches!(&t.kind, TargetKind::Lambda { key } if key == &l.key));
            if !wired {
                route.targets.push(Target {
                    id: l.key.clone(),
                    kind: TargetKind::Lambda { key: l.key.clone() },
                    retry_attempts: None,
                    max_event_age_seconds: None,
                    dead_letter: true,
                    input_transformer: None,
                });
            }
        }
        Ok(())
    }
}

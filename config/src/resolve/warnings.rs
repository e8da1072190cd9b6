//! Warnings: values that are valid but probably a mistake.
//!
//! A name pinned in the file as `<other>-<suffix>`, where `<environment>-<suffix>` is what
//! the key derives to, was most likely copied from another environment's file or written by
//! `deploy init` for it: with `DEPLOY_ENVIRONMENT` set, that environment would deploy into
//! (or look for) the other environment's resource.

use toml::Spanned;

use super::Resolver;
use super::state::default_prefix;
use crate::error::Position;
use crate::model::Project;
use crate::raw::{RawConfig, S};
use crate::validate as v;

/// What the user should do about a pinned name.
enum Fix {
    /// The key has a derived default: removing it gives the right name.
    Remove,
    /// The key has no default, but the value names one of the stack's derived names.
    SetTo,
}

impl Resolver<'_> {
    /// `env_source` says where the environment came from, e.g. `DEPLOY_ENVIRONMENT`.
    pub(super) fn warnings(
        &self,
        raw: &RawConfig,
        project: &Project,
        env_source: &str,
        route_keys: &[String],
    ) -> Vec<String> {
        let env = project.environment.as_str();
        let mut out = Vec::new();
        let mut dashed = |key: &str, value: &S<String>, suffix: &str, fix: Fix| {
            let Some(value) = value else { return };
            let Some(other) = value
                .get_ref()
                .strip_suffix(suffix)
                .and_then(|s| s.strip_suffix('-'))
            else {
                return;
            };
            if let Some(w) = self.pinned_warning(
                key,
                value,
                other,
                env,
                env_source,
                &format!("{env}-{suffix}"),
                fix,
            ) {
                out.push(w);
            }
        };
        dashed(
            "eventbus.name",
            &raw.eventbus.name,
            "application-events",
            Fix::Remove,
        );
        dashed("dlq.name", &raw.dlq.name, "eventbridge-dlq", Fix::Remove);
        dashed(
            "schemas.registry_name",
            &raw.schemas.registry_name,
            "event-schemas",
            Fix::Remove,
        );
        for (key, lambda) in &raw.lambdas {
            let l = lambda.get_ref();
            if l.enabled == Some(false) {
                continue;
            }
            let k = |field: &str| format!("lambdas.{key}.{field}");
            dashed(
                &k("function_name"),
                &l.function_name,
                key.as_str(),
                Fix::Remove,
            );
            if key == "event-logger" {
                dashed(&k("rule"), &l.rule, "all-events-to-logger", Fix::Remove);
            } else if let Some(suffix) = l.rule.as_ref().and_then(|r| {
                route_keys
                    .iter()
                    .find(|s| r.get_ref().ends_with(&format!("-{s}")))
            }) {
                dashed(&k("rule"), &l.rule, suffix, Fix::SetTo);
            }
        }
        if let Some(prefix) = &raw.state.prefix {
            let other = prefix
                .get_ref()
                .strip_prefix(&format!("{}/", project.name))
                .map(|rest| rest.strip_suffix('/').unwrap_or(rest));
            if let Some(other) = other {
                let derived = default_prefix(project, env);
                if let Some(w) = self.pinned_warning(
                    "state.prefix",
                    prefix,
                    other,
                    env,
                    env_source,
                    &derived,
                    Fix::Remove,
                ) {
                    out.push(w);
                }
            }
        }
        out
    }

    /// The warning for `key = value` that looks derived from environment `other`, if `other`
    /// is an environment name and not the one in force.
    #[allow(clippy::too_many_arguments)]
    fn pinned_warning(
        &self,
        key: &str,
        value: &Spanned<String>,
        other: &str,
        env: &str,
        env_source: &str,
        derived: &str,
        fix: Fix,
    ) -> Option<String> {
        if other == env || v::environment(other).is_err() {
            return None;
        }
        let line = Position::from_offset(self.src.text, value.span().start).line;
        let fix = match fix {
            Fix::Remove => "remove the key to use",
            Fix::SetTo => "set it to",
        };
        Some(format!(
            "{}:{line}: {key} = \"{}\" looks derived from environment \"{other}\", \
             but the environment is \"{env}\" ({env_source}); {fix} \"{derived}\"",
            self.src.path.display(),
            value.get_ref(),
        ))
    }
}

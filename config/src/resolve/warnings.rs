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

/// The environment in force, and where it came from (e.g. `DEPLOY_ENVIRONMENT`).
#[derive(Clone, Copy)]
struct InForce<'a> {
    env: &'a str,
    source: &'a str,
}

/// A name pinned in the file, `key = value`, that looks derived from environment `other`.
struct Pinned<'a> {
    key: &'a str,
    value: &'a Spanned<String>,
    other: &'a str,
    /// What the key derives to (or should be) in the environment in force.
    derived: &'a str,
    fix: Fix,
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
        let env = InForce {
            env: project.environment.as_str(),
            source: env_source,
        };
        let mut out = Vec::new();
        out.extend(self.dashed(
            env,
            "eventbus.name",
            &raw.eventbus.name,
            "application-events",
            Fix::Remove,
        ));
        out.extend(self.dashed(
            env,
            "dlq.name",
            &raw.dlq.name,
            "eventbridge-dlq",
            Fix::Remove,
        ));
        out.extend(self.dashed(
            env,
            "schemas.registry_name",
            &raw.schemas.registry_name,
            "event-schemas",
            Fix::Remove,
        ));
        out.extend(self.lambda_warnings(raw, env, route_keys));
        out.extend(self.prefix_warning(raw, project, env));
        out
    }

    /// `key = "<other>-<suffix>"`, where `<env>-<suffix>` is the name in force.
    fn dashed(
        &self,
        env: InForce<'_>,
        key: &str,
        value: &S<String>,
        suffix: &str,
        fix: Fix,
    ) -> Option<String> {
        let value = value.as_ref()?;
        let other = value.get_ref().strip_suffix(suffix)?.strip_suffix('-')?;
        let pinned = Pinned {
            key,
            value,
            other,
            derived: &format!("{}-{suffix}", env.env),
            fix,
        };
        self.pinned_warning(&pinned, env)
    }

    /// The enabled functions' pinned `function_name`, and a `rule` naming a route (or the
    /// event logger's rule) of another environment.
    fn lambda_warnings(
        &self,
        raw: &RawConfig,
        env: InForce<'_>,
        route_keys: &[String],
    ) -> Vec<String> {
        let mut out = Vec::new();
        for (key, lambda) in &raw.lambdas {
            let l = lambda.get_ref();
            if l.enabled == Some(false) {
                continue;
            }
            let k = |field: &str| format!("lambdas.{key}.{field}");
            out.extend(self.dashed(
                env,
                &k("function_name"),
                &l.function_name,
                key.as_str(),
                Fix::Remove,
            ));
            if key == "event-logger" {
                out.extend(self.dashed(
                    env,
                    &k("rule"),
                    &l.rule,
                    "all-events-to-logger",
                    Fix::Remove,
                ));
            } else if let Some(suffix) = l.rule.as_ref().and_then(|r| {
                route_keys
                    .iter()
                    .find(|s| r.get_ref().ends_with(&format!("-{s}")))
            }) {
                out.extend(self.dashed(env, &k("rule"), &l.rule, suffix, Fix::SetTo));
            }
        }
        out
    }

    /// `state.prefix = "<project.name>/<other>/"`.
    fn prefix_warning(
        &self,
        raw: &RawConfig,
        project: &Project,
        env: InForce<'_>,
    ) -> Option<String> {
        let prefix = raw.state.prefix.as_ref()?;
        let rest = prefix
            .get_ref()
            .strip_prefix(&format!("{}/", project.name))?;
        let pinned = Pinned {
            key: "state.prefix",
            value: prefix,
            other: rest.strip_suffix('/').unwrap_or(rest),
            derived: &default_prefix(project, env.env),
            fix: Fix::Remove,
        };
        self.pinned_warning(&pinned, env)
    }

    /// The warning for a pinned name, if the environment it looks derived from is an
    /// environment name and not the one in force.
    fn pinned_warning(&self, pinned: &Pinned<'_>, env: InForce<'_>) -> Option<String> {
        let Pinned {
            key,
            value,
            other,
            derived,
            ..
        } = pinned;
        let InForce { env, source } = env;
        if *other == env || v::environment(other).is_err() {
            return None;
        }
        let line = Position::from_offset(self.src.text, value.span().start).line;
        let fix = match pinned.fix {
            Fix::Remove => "remove the key to use",
            Fix::SetTo => "set it to",
        };
        Some(format!(
            "{}:{line}: {key} = \"{}\" looks derived from environment \"{other}\", \
             but the environment is \"{env}\" ({source}); {fix} \"{derived}\"",
            self.src.path.display(),
            value.get_ref(),
        ))
    }
}

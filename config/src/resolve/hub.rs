//! The hub's event types and routes as `deploy.toml` declares them, validated with errors that
//! point into the file. Event types are checked here; each route's key and pattern in
//! [`route`], its targets in [`target`].

use std::collections::BTreeMap;
use std::ops::Range;

use deploy_contracts::Mode;
use toml::Spanned;

use super::Resolver;
use crate::error::ConfigError;
use crate::hub::{EventType, Route};
use crate::model::Lambda;
use crate::raw::{RawConfig, RawEvent};
use crate::validate as v;

mod route;
mod target;

/// An entry of the file and where it is (errors point there).
struct Entry<'a, T> {
    value: &'a T,
    span: Option<Range<usize>>,
}

/// What a route's names and targets are checked against.
struct Scope<'a> {
    /// The environment: a route's rule and a queue are named `<env>-<key>`.
    env: &'a str,
    /// The deployment's region: a target given by ARN must be in it.
    region: &'a str,
    /// The enabled functions of `[lambdas]`, which a `lambda` target names by key.
    lambdas: &'a [Lambda],
}

fn entries<T>(file: &BTreeMap<String, Spanned<T>>) -> BTreeMap<String, Entry<'_, T>> {
    file.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                Entry {
                    value: v.get_ref(),
                    span: Some(v.span()),
                },
            )
        })
        .collect()
}

impl Resolver<'_> {
    pub(super) fn hub(
        &self,
        raw: &RawConfig,
        env: &str,
        region: &str,
        lambdas: &[Lambda],
    ) -> Result<(Vec<EventType>, Vec<Route>), ConfigError> {
        let events = entries(&raw.events);
        let routes = entries(&raw.routes);
        let scope = Scope {
            env,
            region,
            lambdas,
        };
        let mut types = Vec::new();
        for (key, e) in &events {
            if e.value.enabled == Some(false) {
                continue;
            }
            types.push(self.event_type(key, e)?);
        }
        let mut out = Vec::new();
        for (key, r) in &routes {
            if r.value.enabled == Some(false) {
                continue;
            }
            out.push(self.route(key, r, &types, &scope)?);
        }
        Ok((types, out))
    }

    fn invalid(
        &self,
        span: &Option<Range<usize>>,
        key: &str,
        problem: String,
        allowed: &str,
    ) -> ConfigError {
        ConfigError::invalid(&self.src, span.clone(), key, problem, allowed)
    }

    fn event_type(&self, key: &str, e: &Entry<'_, RawEvent>) -> Result<EventType, ConfigError> {
        let k = |f: &str| format!("events.{key}.{f}");
        if !v::is_identifier(key) {
            return Err(self.invalid(
                &e.span,
                &format!("events.{key}"),
                format!("`{key}` is not a usable event type key"),
                "lower-case letters, digits and '-', starting with a letter",
            ));
        }
        let text = |f: &str, value: &Option<Spanned<String>>| -> Result<String, ConfigError> {
            match value {
                Some(s) if !s.get_ref().trim().is_empty() => Ok(s.get_ref().clone()),
                _ => Err(self.invalid(
                    &e.span,
                    &k(f),
                    format!("events.{key} has no {f}"),
                    "a non-empty string",
                )),
            }
        };
        let compatibility = match &e.value.compatibility {
            Some(c) => c.get_ref().parse::<Mode>().map_err(|_| {
                ConfigError::invalid(
                    &self.src,
                    e.span.as_ref().map(|_| c.span()),
                    &k("compatibility"),
                    format!("`{}` is not a compatibility mode", c.get_ref()),
                    Mode::ALLOWED,
                )
            })?,
            None => Mode::Backward,
        };
        Ok(EventType {
            key: key.to_string(),
            source: text("source", &e.value.source)?,
            detail_type: text("detail_type", &e.value.detail_type)?,
            compatibility,
        })
    }
}

//! A route: its key and rule name, the pattern it matches (built from event types, or written
//! out whole) and its targets, checked in that order with errors that point into the file.

use serde_json::{Value, json};
use toml::Spanned;

use super::{Entry, Scope};
use crate::error::ConfigError;
use crate::hub::{EventType, Route, Target};
use crate::raw::RawRoute;
use crate::resolve::Resolver;
use crate::validate as v;

/// Prefixes of the rule names deploy gives its temporary probes (`<env>-deploy-probe-…`).
const RESERVED_ROUTE_PREFIXES: &[&str] = &["deploy-probe-"];

impl Resolver<'_> {
    pub(super) fn route(
        &self,
        key: &str,
        r: &Entry<'_, RawRoute>,
        types: &[EventType],
        scope: &Scope<'_>,
    ) -> Result<Route, ConfigError> {
        let rule_name = self.rule_name(key, r, scope.env)?;
        let (events, pattern) = self.route_pattern(key, r, types)?;
        let targets = self.route_targets(key, r, scope)?;
        Ok(Route {
            key: key.to_string(),
            rule_name,
            description: r
                .value
                .description
                .clone()
                .unwrap_or_else(|| format!("Route {key}")),
            events,
            pattern,
            targets,
        })
    }

    /// The route's rule name, `<env>-<key>`, once the key is usable and not one of deploy's own.
    fn rule_name(
        &self,
        key: &str,
        r: &Entry<'_, RawRoute>,
        env: &str,
    ) -> Result<String, ConfigError> {
        if !v::is_identifier(key) {
            return Err(self.invalid(
                &r.span,
                &format!("routes.{key}"),
                format!("`{key}` is not a usable route key"),
                "lower-case letters, digits and '-', starting with a letter",
            ));
        }
        // deploy's own temporary rules (test and replay probes) are named like this; a route
        // under these names would be taken for one and swept away.
        if let Some(reserved) = RESERVED_ROUTE_PREFIXES.iter().find(|p| key.starts_with(*p)) {
            return Err(self.invalid(
                &r.span,
                &format!("routes.{key}"),
                format!("`{key}` starts with `{reserved}`, which deploy's own probe rules use"),
                "a route key that does not start with deploy-probe-",
            ));
        }
        let rule_name = format!("{env}-{key}");
        v::rule_name(&rule_name).map_err(|(p, a)| {
            self.invalid(
                &r.span,
                &format!("routes.{key}"),
                format!("its rule name: {p}"),
                &a,
            )
        })?;
        Ok(rule_name)
    }

    /// The event types the route names (none for a whole `pattern`) and its pattern: a route
    /// has exactly one of `events` (with an optional `detail` filter) and `pattern`.
    fn route_pattern(
        &self,
        key: &str,
        r: &Entry<'_, RawRoute>,
        types: &[EventType],
    ) -> Result<(Vec<String>, String), ConfigError> {
        match (&r.value.events, &r.value.pattern) {
            (Some(names), None) => {
                let pattern = self.pattern_of_events(key, r, names, types)?;
                Ok((names.get_ref().clone(), pattern))
            }
            (None, Some(p)) => Ok((Vec::new(), self.written_pattern(key, r, p)?)),
            _ => Err(self.invalid(
                &r.span,
                &format!("routes.{key}"),
                "a route needs exactly one of `events` and `pattern`".into(),
                "events = [\"<event type>\", ...], or pattern = '<JSON event pattern>'",
            )),
        }
    }

    /// `events = [...]`: each one an event type of this hub; with `detail`, a JSON object.
    fn pattern_of_events(
        &self,
        key: &str,
        r: &Entry<'_, RawRoute>,
        names: &Spanned<Vec<String>>,
        types: &[EventType],
    ) -> Result<String, ConfigError> {
        let mut found = Vec::new();
        for name in names.get_ref() {
            let t = types.iter().find(|t| &t.key == name).ok_or_else(|| {
                ConfigError::invalid(
                    &self.src,
                    r.span.as_ref().map(|_| names.span()),
                    &format!("routes.{key}.events"),
                    format!("`{name}` is not an event type of this hub"),
                    types
                        .iter()
                        .map(|t| t.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            })?;
            found.push(t);
        }
        let detail = match &r.value.detail {
            Some(d) => Some(json_object(d.get_ref()).map_err(|p| {
                ConfigError::invalid(
                    &self.src,
                    r.span.as_ref().map(|_| d.span()),
                    &format!("routes.{key}.detail"),
                    p,
                    "a JSON object of detail filters",
                )
            })?),
            None => None,
        };
        Ok(events_pattern(&found, detail))
    }

    /// `pattern = '...'`: a JSON object, and no `detail` beside it.
    fn written_pattern(
        &self,
        key: &str,
        r: &Entry<'_, RawRoute>,
        p: &Spanned<String>,
    ) -> Result<String, ConfigError> {
        if r.value.detail.is_some() {
            return Err(self.invalid(
                &r.span,
                &format!("routes.{key}.detail"),
                "`detail` goes with `events`, not with a whole `pattern`".into(),
                "put the detail filter inside the pattern",
            ));
        }
        let value = json_object(p.get_ref()).map_err(|e| {
            ConfigError::invalid(
                &self.src,
                r.span.as_ref().map(|_| p.span()),
                &format!("routes.{key}.pattern"),
                e,
                "a JSON object: an EventBridge event pattern",
            )
        })?;
        Ok(value.to_string())
    }

    /// The route's targets, in order, each with an id of its own.
    fn route_targets(
        &self,
        key: &str,
        r: &Entry<'_, RawRoute>,
        scope: &Scope<'_>,
    ) -> Result<Vec<Target>, ConfigError> {
        let mut targets: Vec<Target> = Vec::new();
        for t in r.value.targets.iter().flatten() {
            let span = r.span.as_ref().map(|_| t.span());
            let target = self.target(key, t.get_ref(), &span, scope)?;
            if targets.iter().any(|o| o.id == target.id) {
                return Err(self.invalid(
                    &span,
                    &format!("routes.{key}.targets"),
                    format!("two targets have the id `{}`", target.id),
                    "a unique `id` per target of a route",
                ));
            }
            targets.push(target);
        }
        Ok(targets)
    }
}

fn json_object(text: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(format!("`{text}` is JSON but not an object")),
        Err(e) => Err(format!("`{text}` is not valid JSON: {e}")),
    }
}

/// The pattern of a route given by event types: their sources and detail-types (each once,
/// in order), and the detail filter. Canonical: keys sorted, compact.
fn events_pattern(types: &[&EventType], detail: Option<Value>) -> String {
    let mut sources: Vec<&str> = Vec::new();
    let mut detail_types: Vec<&str> = Vec::new();
    for t in types {
        if !sources.contains(&t.source.as_str()) {
            sources.push(&t.source);
        }
        if !detail_types.contains(&t.detail_type.as_str()) {
            detail_types.push(&t.detail_type);
        }
    }
    let mut p = json!({"source": sources, "detail-type": detail_types});
    if let Some(d) = detail {
        p["detail"] = d;
    }
    p.to_string()
}

//! The hub's event types and routes as `deploy.toml` declares them: each route's pattern and
//! targets, validated with errors that point into the file.

use std::collections::BTreeMap;
use std::ops::Range;

use deploy_contracts::Mode;
use serde_json::{Value, json};
use toml::Spanned;

use super::Resolver;
use crate::error::ConfigError;
use crate::hub::{EventType, InputTransformer, Route, Target, TargetKind};
use crate::model::Lambda;
use crate::raw::{RawConfig, RawEvent, RawRoute, RawTarget};
use crate::validate as v;

/// Prefixes of the rule names deploy gives its temporary probes (`<env>-deploy-probe-…`).
const RESERVED_ROUTE_PREFIXES: &[&str] = &["deploy-probe-"];

/// An entry of the file and where it is (errors point there).
struct Entry<'a, T> {
    value: &'a T,
    span: Option<Range<usize>>,
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
            out.push(self.route(key, r, &types, env, region, lambdas)?);
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

    fn route(
        &self,
        key: &str,
        r: &Entry<'_, RawRoute>,
        types: &[EventType],
        env: &str,
        region: &str,
        lambdas: &[Lambda],
    ) -> Result<Route, ConfigError> {
        let k = |f: &str| format!("routes.{key}.{f}");
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
        let span_of = |s: &Spanned<String>| r.span.as_ref().map(|_| s.span());
        let (events, pattern) = match (&r.value.events, &r.value.pattern) {
            (Some(names), None) => {
                let mut found = Vec::new();
                for name in names.get_ref() {
                    let t = types.iter().find(|t| &t.key == name).ok_or_else(|| {
                        ConfigError::invalid(
                            &self.src,
                            r.span.as_ref().map(|_| names.span()),
                            &k("events"),
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
                            span_of(d),
                            &k("detail"),
                            p,
                            "a JSON object of detail filters",
                        )
                    })?),
                    None => None,
                };
                (names.get_ref().clone(), events_pattern(&found, detail))
            }
            (None, Some(p)) => {
                if r.value.detail.is_some() {
                    return Err(self.invalid(
                        &r.span,
                        &k("detail"),
                        "`detail` goes with `events`, not with a whole `pattern`".into(),
                        "put the detail filter inside the pattern",
                    ));
                }
                let value = json_object(p.get_ref()).map_err(|e| {
                    ConfigError::invalid(
                        &self.src,
                        span_of(p),
                        &k("pattern"),
                        e,
                        "a JSON object: an EventBridge event pattern",
                    )
                })?;
                (Vec::new(), value.to_string())
            }
            _ => {
                return Err(self.invalid(
                    &r.span,
                    &format!("routes.{key}"),
                    "a route needs exactly one of `events` and `pattern`".into(),
                    "events = [\"<event type>\", ...], or pattern = '<JSON event pattern>'",
                ));
            }
        };
        let mut targets: Vec<Target> = Vec::new();
        for t in r.value.targets.iter().flatten() {
            let span = r.span.as_ref().map(|_| t.span());
            let target = self.target(key, t.get_ref(), &span, env, region, lambdas)?;
            if targets.iter().any(|o| o.id == target.id) {
                return Err(self.invalid(
                    &span,
                    &k("targets"),
                    format!("two targets have the id `{}`", target.id),
                    "a unique `id` per target of a route",
                ));
            }
            targets.push(target);
        }
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

    fn target(
        &self,
        route: &str,
        t: &RawTarget,
        span: &Option<Range<usize>>,
        env: &str,
        region: &str,
        lambdas: &[Lambda],
    ) -> Result<Target, ConfigError> {
        let key = format!("routes.{route}.targets");
        let kinds = [
            &t.lambda,
            &t.sqs,
            &t.sqs_arn,
            &t.state_machine_arn,
            &t.bus_arn,
        ];
        if kinds.iter().filter(|k| k.is_some()).count() != 1 {
            return Err(self.invalid(span, &key, "a target names exactly one of lambda, sqs, sqs_arn, state_machine_arn, bus_arn".into(), "{ lambda = \"<[lambdas] key>\" }, { sqs = \"<queue key>\" }, { sqs_arn = \"arn:aws:sqs:...\" }, { state_machine_arn = \"arn:aws:states:...\" }, { bus_arn = \"arn:aws:events:...\" }"));
        }
        let bad = |problem: String, allowed: &str| Err(self.invalid(span, &key, problem, allowed));
        let (kind, default_id) = if let Some(l) = &t.lambda {
            if !lambdas.iter().any(|f| &f.key == l) {
                return bad(
                    format!("`{l}` is not a function of [lambdas] (or it is disabled)"),
                    &lambdas
                        .iter()
                        .map(|f| f.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                );
            }
            (TargetKind::Lambda { key: l.clone() }, l.clone())
        } else if let Some(q) = &t.sqs {
            let queue_name = format!("{env}-{q}");
            if !v::is_identifier(q) || v::resource_name(&queue_name).is_err() {
                return bad(
                    format!("`{q}` is not a usable queue key"),
                    "lower-case letters, digits and '-', the whole queue name at most 80 characters",
                );
            }
            (
                TargetKind::Sqs {
                    key: q.clone(),
                    queue_name,
                },
                q.clone(),
            )
        } else if let Some(a) = &t.sqs_arn {
            if let Err(p) = arn_of(a, "sqs", region, |r| !r.is_empty() && !r.contains('/')) {
                return bad(p, &format!("arn:aws:sqs:{region}:<account>:<queue name>"));
            }
            (TargetKind::SqsArn { arn: a.clone() }, last_segment(a))
        } else if let Some(a) = &t.state_machine_arn {
            if let Err(p) = arn_of(a, "states", region, |r| r.starts_with("stateMachine:")) {
                return bad(
                    p,
                    &format!("arn:aws:states:{region}:<account>:stateMachine:<name>"),
                );
            }
            (
                TargetKind::StateMachineArn { arn: a.clone() },
                last_segment(a),
            )
        } else {
            let a = t.bus_arn.as_ref().expect("one kind is set");
            if let Err(p) = arn_of(a, "events", region, |r| r.starts_with("event-bus/")) {
                return bad(
                    p,
                    &format!("arn:aws:events:{region}:<account>:event-bus/<name>"),
                );
            }
            (TargetKind::BusArn { arn: a.clone() }, last_segment(a))
        };
        let id = t.id.clone().unwrap_or(default_id);
        let id_ok = !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !id_ok {
            return bad(
                format!("`{id}` is not a usable target id"),
                "1 to 64 of letters, digits, '.', '_', '-' (set `id`)",
            );
        }
        let retry_attempts = match t.retry_attempts {
            Some(n) if !(0..=185).contains(&n) => {
                return bad(format!("retry_attempts = {n} is out of range"), "0 to 185");
            }
            n => n.map(|n| n as u32),
        };
        let max_event_age_seconds = match t.max_event_age_seconds {
            Some(n) if !(60..=86400).contains(&n) => {
                return bad(
                    format!("max_event_age_seconds = {n} is out of range"),
                    "60 to 86400",
                );
            }
            n => n.map(|n| n as u32),
        };
        let input_transformer = match &t.input_transformer {
            Some(it) if it.input_template.trim().is_empty() => {
                return bad(
                    "input_transformer has an empty input_template".into(),
                    "a template such as '{\"id\": <id>}'",
                );
            }
            Some(it) => Some(InputTransformer {
                input_paths: it.input_paths.clone().unwrap_or_default(),
                input_template: it.input_template.clone(),
            }),
            None => None,
        };
        Ok(Target {
            id,
            kind,
            retry_attempts,
            max_event_age_seconds,
            dead_letter: t.dead_letter.unwrap_or(true),
            input_transformer,
        })
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

/// Checks an ARN's service and region (a target must be in the deployment's region); `resource`
/// checks what follows the account.
fn arn_of(
    arn: &str,
    service: &str,
    region: &str,
    resource: impl Fn(&str) -> bool,
) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || !parts[1].starts_with("aws") {
        return Err(format!("`{arn}` is not an ARN"));
    }
    if parts[2] != service {
        return Err(format!(
            "`{arn}` is an ARN of {}, not of {service}",
            parts[2]
        ));
    }
    if parts[3] != region {
        return Err(format!(
            "`{arn}` is in region {}, not in the deployment's region {region}",
            parts[3]
        ));
    }
    if parts[4].len() != 12 || !parts[4].chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{arn}` has no 12-digit account"));
    }
    if !resource(parts[5]) {
        return Err(format!(
            "`{arn}` does not name a {service} resource of the right kind"
        ));
    }
    Ok(())
}

/// What names a resource at the end of its ARN (a queue, a state machine, a bus).
fn last_segment(arn: &str) -> String {
    arn.rsplit([':', '/']).next().unwrap_or(arn).to_string()
}

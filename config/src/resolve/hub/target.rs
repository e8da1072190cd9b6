//! A route's target: the one resource it names (a function or a queue of this hub by key, or a
//! queue, a state machine or a bus by ARN), its id, and how EventBridge delivers to it.

use std::ops::{Range, RangeInclusive};

use super::Scope;
use crate::error::ConfigError;
use crate::hub::{InputTransformer, Target, TargetKind};
use crate::model::Lambda;
use crate::raw::RawTarget;
use crate::resolve::Resolver;
use crate::validate as v;

/// Where a target is in the file: its errors name `routes.<route>.targets` and point there.
struct At<'r, 'a> {
    resolver: &'r Resolver<'a>,
    key: String,
    span: &'r Option<Range<usize>>,
}

impl At<'_, '_> {
    fn bad<T>(&self, problem: String, allowed: &str) -> Result<T, ConfigError> {
        Err(self
            .resolver
            .invalid(self.span, &self.key, problem, allowed))
    }
}

/// A kind of resource a target names by ARN.
struct ArnKind {
    service: &'static str,
    /// Checks what follows the account.
    resource: fn(&str) -> bool,
    /// What follows the account, as the error shows it.
    form: &'static str,
}

const SQS_ARN: ArnKind = ArnKind {
    service: "sqs",
    resource: |r| !r.is_empty() && !r.contains('/'),
    form: "<queue name>",
};

const STATE_MACHINE_ARN: ArnKind = ArnKind {
    service: "states",
    resource: |r| r.starts_with("stateMachine:"),
    form: "stateMachine:<name>",
};

const BUS_ARN: ArnKind = ArnKind {
    service: "events",
    resource: |r| r.starts_with("event-bus/"),
    form: "event-bus/<name>",
};

impl ArnKind {
    /// Checks `arn` (in the deployment's `region`), and gives what names the resource: the
    /// target's default id.
    fn check(&self, at: &At<'_, '_>, arn: &str, region: &str) -> Result<String, ConfigError> {
        if let Err(p) = arn_of(arn, self.service, region, self.resource) {
            return at.bad(
                p,
                &format!("arn:aws:{}:{region}:<account>:{}", self.service, self.form),
            );
        }
        Ok(last_segment(arn))
    }
}

impl Resolver<'_> {
    pub(super) fn target(
        &self,
        route: &str,
        t: &RawTarget,
        span: &Option<Range<usize>>,
        scope: &Scope<'_>,
    ) -> Result<Target, ConfigError> {
        let at = At {
            resolver: self,
            key: format!("routes.{route}.targets"),
            span,
        };
        let (kind, default_id) = kind(&at, t, scope)?;
        let id = id(&at, t.id.clone().unwrap_or(default_id))?;
        let retry_attempts = in_range(&at, "retry_attempts", t.retry_attempts, 0..=185)?;
        let max_event_age_seconds = in_range(
            &at,
            "max_event_age_seconds",
            t.max_event_age_seconds,
            60..=86400,
        )?;
        let input_transformer = input_transformer(&at, t)?;
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

/// The one resource the target names, and the id it has when it sets none (the key, or what
/// names the resource at the end of its ARN).
fn kind(
    at: &At<'_, '_>,
    t: &RawTarget,
    scope: &Scope<'_>,
) -> Result<(TargetKind, String), ConfigError> {
    let kinds = [
        &t.lambda,
        &t.sqs,
        &t.sqs_arn,
        &t.state_machine_arn,
        &t.bus_arn,
    ];
    if kinds.iter().filter(|k| k.is_some()).count() != 1 {
        return at.bad("a target names exactly one of lambda, sqs, sqs_arn, state_machine_arn, bus_arn".into(), "{ lambda = \"<[lambdas] key>\" }, { sqs = \"<queue key>\" }, { sqs_arn = \"arn:aws:sqs:...\" }, { state_machine_arn = \"arn:aws:states:...\" }, { bus_arn = \"arn:aws:events:...\" }");
    }
    if let Some(l) = &t.lambda {
        lambda(at, l, scope.lambdas)
    } else if let Some(q) = &t.sqs {
        queue(at, q, scope.env)
    } else if let Some(a) = &t.sqs_arn {
        let id = SQS_ARN.check(at, a, scope.region)?;
        Ok((TargetKind::SqsArn { arn: a.clone() }, id))
    } else if let Some(a) = &t.state_machine_arn {
        let id = STATE_MACHINE_ARN.check(at, a, scope.region)?;
        Ok((TargetKind::StateMachineArn { arn: a.clone() }, id))
    } else {
        let a = t.bus_arn.as_ref().expect("one kind is set");
        let id = BUS_ARN.check(at, a, scope.region)?;
        Ok((TargetKind::BusArn { arn: a.clone() }, id))
    }
}

/// `lambda = "<key>"`: an enabled function of `[lambdas]`.
fn lambda(
    at: &At<'_, '_>,
    key: &str,
    lambdas: &[Lambda],
) -> Result<(TargetKind, String), ConfigError> {
    if !lambdas.iter().any(|f| f.key == key) {
        return at.bad(
            format!("`{key}` is not a function of [lambdas] (or it is disabled)"),
            &lambdas
                .iter()
                .map(|f| f.key.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    let key = key.to_string();
    Ok((TargetKind::Lambda { key: key.clone() }, key))
}

/// `sqs = "<key>"`: a queue this deployment creates, named `<env>-<key>`.
fn queue(at: &At<'_, '_>, key: &str, env: &str) -> Result<(TargetKind, String), ConfigError> {
    let queue_name = format!("{env}-{key}");
    if !v::is_identifier(key) || v::resource_name(&queue_name).is_err() {
        return at.bad(
            format!("`{key}` is not a usable queue key"),
            "lower-case letters, digits and '-', the whole queue name at most 80 characters",
        );
    }
    let key = key.to_string();
    Ok((
        TargetKind::Sqs {
            key: key.clone(),
            queue_name,
        },
        key,
    ))
}

/// The target's id (`id`, or the default) as EventBridge takes it.
fn id(at: &At<'_, '_>, id: String) -> Result<String, ConfigError> {
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !id_ok {
        return at.bad(
            format!("`{id}` is not a usable target id"),
            "1 to 64 of letters, digits, '.', '_', '-' (set `id`)",
        );
    }
    Ok(id)
}

/// `<name> = n` of the retry policy, within what EventBridge takes.
fn in_range(
    at: &At<'_, '_>,
    name: &str,
    value: Option<i64>,
    range: RangeInclusive<i64>,
) -> Result<Option<u32>, ConfigError> {
    match value {
        Some(n) if !range.contains(&n) => at.bad(
            format!("{name} = {n} is out of range"),
            &format!("{} to {}", range.start(), range.end()),
        ),
        n => Ok(n.map(|n| n as u32)),
    }
}

/// `input_transformer`: its template is not empty.
fn input_transformer(
    at: &At<'_, '_>,
    t: &RawTarget,
) -> Result<Option<InputTransformer>, ConfigError> {
    match &t.input_transformer {
        Some(it) if it.input_template.trim().is_empty() => at.bad(
            "input_transformer has an empty input_template".into(),
            "a template such as '{\"id\": <id>}'",
        ),
        Some(it) => Ok(Some(InputTransformer {
            input_paths: it.input_paths.clone().unwrap_or_default(),
            input_template: it.input_template.clone(),
        })),
        None => Ok(None),
    }
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

//! Live health of the deployed stack: the bus, every rule ENABLED, functions Active, the
//! logger wired to its rule, and the dead-letter queue's depth.

use std::time::Instant;

use aws_sdk_eventbridge::types::RuleState;
use aws_sdk_lambda::types::{LastUpdateStatus, State};
use aws_sdk_sqs::types::QueueAttributeName;
use deploy_config::Config;

use super::results::Check;
use crate::aws::{AwsClients, sdk_error};
use crate::deploy::lambdas::function;
use crate::deploy::lambdas::outputs::InfraOutputs;

pub async fn checks(aws: &AwsClients, config: &Config, infra: &InfraOutputs) -> Vec<Check> {
    let mut out = Vec::new();
    let bus = &infra.bus_name;

    let t = Instant::now();
    let check = match aws.events.describe_event_bus().name(bus).send().await {
        Ok(b) => Check::timed(
            "health: event bus",
            t,
            true,
            format!("{bus} exists ({})", b.arn().unwrap_or("no ARN")),
        ),
        Err(e) => Check::timed(
            "health: event bus",
            t,
            false,
            sdk_error(&format!("DescribeEventBus {bus}"), e).message,
        ),
    };
    out.push(check);

    for rule in config.rule_names() {
        let t = Instant::now();
        let name = format!("health: rule {rule}");
        let check = match aws
            .events
            .describe_rule()
            .name(&rule)
            .event_bus_name(bus)
            .send()
            .await
        {
            Ok(r) if r.state() == Some(&RuleState::Enabled) => {
                Check::timed(name, t, true, "ENABLED")
            }
            Ok(r) => Check::timed(
                name,
                t,
                false,
                format!(
                    "state is {}",
                    r.state().map(RuleState::as_str).unwrap_or("unknown")
                ),
            ),
            Err(e) => Check::timed(
                name,
                t,
                false,
                sdk_error(&format!("DescribeRule {rule}"), e).message,
            ),
        };
        out.push(check);
    }

    for lambda in &config.lambdas {
        let t = Instant::now();
        let fname = &lambda.function_name;
        let name = format!("health: function {fname}");
        let check = match function::get(&aws.lambda, fname).await {
            Ok(Some(c)) => {
                let state = c.state().map(State::as_str).unwrap_or("unknown");
                let update = c
                    .last_update_status()
                    .map(LastUpdateStatus::as_str)
                    .unwrap_or("unknown");
                let ok = c.state().is_none_or(|s| *s == State::Active)
                    && c.last_update_status()
                        .is_none_or(|s| *s == LastUpdateStatus::Successful);
                Check::timed(name, t, ok, format!("state {state}, last update {update}"))
            }
            Ok(None) => Check::timed(name, t, false, "does not exist"),
            Err(e) => Check::timed(name, t, false, e.message),
        };
        out.push(check);

        let Some(rule) = &lambda.rule else { continue };
        let t = Instant::now();
        let name = format!("health: {} target", lambda.key);
        let check = match aws
            .events
            .list_targets_by_rule()
            .rule(rule)
            .event_bus_name(bus)
            .send()
            .await
        {
            Ok(list) => match list.targets().iter().find(|x| x.id() == lambda.key) {
                Some(x) if x.arn().ends_with(&format!(":function:{fname}")) => {
                    let dlq = x
                        .dead_letter_config()
                        .and_then(|d| d.arn())
                        .unwrap_or("none");
                    Check::timed(
                        name,
                        t,
                        true,
                        format!("target `{}` of {rule}, dead-letter queue {dlq}", lambda.key),
                    )
                }
                Some(x) => Check::timed(
                    name,
                    t,
                    false,
                    format!("target `{}` points at {}", lambda.key, x.arn()),
                ),
                None => Check::timed(
                    name,
                    t,
                    false,
                    format!("rule {rule} has no target `{}`", lambda.key),
                ),
            },
            Err(e) => Check::timed(
                name,
                t,
                false,
                sdk_error(&format!("ListTargetsByRule {rule}"), e).message,
            ),
        };
        out.push(check);
    }

    let t = Instant::now();
    let depth = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&infra.dlq_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await;
    let check = match depth {
        Ok(a) => {
            let get = |k: QueueAttributeName| {
                a.attributes()
                    .and_then(|m| m.get(&k))
                    .cloned()
                    .unwrap_or_else(|| "?".into())
            };
            let visible = get(QueueAttributeName::ApproximateNumberOfMessages);
            let flight = get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible);
            Check::timed(
                "health: dead-letter queue depth",
                t,
                true,
                format!("{visible} waiting, {flight} being processed"),
            )
        }
        Err(e) => Check::timed(
            "health: dead-letter queue depth",
            t,
            false,
            sdk_error("GetQueueAttributes on the dead-letter queue", e).message,
        ),
    };
    out.push(check);
    out
}

//! What connects the functions to the stack: the invoke permission for EventBridge, the rule
//! target (with the DLQ as its dead-letter config), and the DLQ event source mapping, each on the
//! function's alias (`version::ALIAS`). Each is idempotent: an existing, matching piece is kept
//! as it is.

use std::time::Duration;

use aws_sdk_eventbridge::types::{DeadLetterConfig, RetryPolicy as TargetRetry, Target};
use aws_sdk_lambda::types::{EventSourceMappingConfiguration, FunctionResponseType};
use serde_json::Value;

use crate::aws::{AwsClients, error_code, sdk_error};
use crate::catalog::remove_permission;
use crate::engine::Poller;
use crate::engine::StepError;

pub const EVENTS_PRINCIPAL: &str = "events.amazonaws.com";
pub const INVOKE_ACTION: &str = "lambda:InvokeFunction";
/// EventBridge retries a failed delivery this often, for at most this long, before the event
/// goes to the dead-letter queue.
pub const TARGET_MAX_RETRIES: i32 = 8;
pub const TARGET_MAX_EVENT_AGE_SECONDS: i32 = 3600;
pub const ESM_BATCH_SIZE: i32 = 10;

/// The stable statement id of the permission letting `rule` invoke a function unqualified (what
/// releases before aliases granted; the next run moves it to the alias).
pub fn statement_id(rule: &str) -> String {
    let mut sid = format!("deploy-events-{rule}");
    sid.truncate(100);
    sid
}

/// The stable statement id of the permission letting `rule` invoke a function's alias. Another
/// id than the unqualified one's, so that both exist while a target moves to the alias.
pub fn alias_statement_id(rule: &str) -> String {
    let mut sid = format!("deploy-{}-{rule}", super::version::ALIAS);
    sid.truncate(100);
    sid
}

/// Whether a resource-policy statement is exactly "EventBridge rule `rule_arn` may invoke".
pub fn statement_matches(stmt: &Value, rule_arn: &str) -> bool {
    let one_of = |v: &Value, want: &str| match v {
        Value::String(s) => s == want,
        Value::Array(a) => a.len() == 1 && a[0].as_str() == Some(want),
        _ => false,
    };
    stmt["Effect"] == "Allow"
        && one_of(&stmt["Principal"]["Service"], EVENTS_PRINCIPAL)
        && one_of(&stmt["Action"], INVOKE_ACTION)
        && one_of(&stmt["Condition"]["ArnLike"]["AWS:SourceArn"], rule_arn)
}

/// The statement with id `sid` in the resource policy of a function (of its alias `qualifier`),
/// if any.
pub async fn find_statement(
    client: &aws_sdk_lambda::Client,
    function: &str,
    qualifier: Option<&str>,
    sid: &str,
) -> Result<Option<Value>, StepError> {
    let asked = client
        .get_policy()
        .function_name(function)
        .set_qualifier(qualifier.map(str::to_string))
        .send()
        .await;
    let policy = match asked {
        Ok(out) => out.policy.unwrap_or_default(),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => return Ok(None),
        Err(e) => return Err(sdk_error(&format!("GetPolicy {function}"), e)),
    };
    let doc: Value = serde_json::from_str(&policy).unwrap_or(Value::Null);
    let found = doc["Statement"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["Sid"] == sid))
        .cloned();
    Ok(found)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wired {
    /// Already in place, untouched.
    Kept,
    Created,
    /// Was there but different: replaced.
    Replaced,
}

/// Lets EventBridge rule `rule_arn` invoke `function`'s alias `qualifier`, idempotently.
pub async fn ensure_permission(
    aws: &AwsClients,
    function: &str,
    qualifier: &str,
    sid: &str,
    rule_arn: &str,
) -> Result<Wired, StepError> {
    let client = &aws.lambda;
    let mut outcome = Wired::Created;
    match find_statement(client, function, Some(qualifier), sid).await? {
        Some(stmt) if statement_matches(&stmt, rule_arn) => return Ok(Wired::Kept),
        Some(_) => {
            remove_permission(aws, function, Some(qualifier), sid).await?;
            outcome = Wired::Replaced;
        }
        None => {}
    }
    let added = client
        .add_permission()
        .function_name(function)
        .qualifier(qualifier)
        .statement_id(sid)
        .action(INVOKE_ACTION)
        .principal(EVENTS_PRINCIPAL)
        .source_arn(rule_arn)
        .send()
        .await;
    match added {
        Ok(_) => Ok(outcome),
        Err(e) if error_code(&e) == Some("ResourceConflictException") => {
            // The statement id exists (someone added it meanwhile), or the function is being
            // updated. Fine when the statement is the one we want; otherwise try again.
            match find_statement(client, function, Some(qualifier), sid).await? {
                Some(stmt) if statement_matches(&stmt, rule_arn) => Ok(Wired::Kept),
                _ => Err(sdk_error(&format!("AddPermission {sid} to {function}"), e)),
            }
        }
        Err(e) => Err(sdk_error(&format!("AddPermission {sid} to {function}"), e)),
    }
}

/// A function as a rule's target: its id, the function, the dead-letter queue (when the route
/// keeps one) and the retry policy (bounded by default).
pub struct Wanted<'a> {
    pub id: &'a str,
    pub arn: &'a str,
    pub dlq_arn: Option<&'a str>,
    pub retry_attempts: Option<u32>,
    pub max_event_age_seconds: Option<u32>,
}

/// Makes the function the target `want.id` of `rule` on `bus`, as `want` says.
pub async fn ensure_target(
    client: &aws_sdk_eventbridge::Client,
    bus: &str,
    rule: &str,
    want: &Wanted<'_>,
) -> Result<Wired, StepError> {
    let (target_id, function_arn, dlq_arn) = (want.id, want.arn, want.dlq_arn);
    let retries = want.retry_attempts.map_or(TARGET_MAX_RETRIES, |n| n as i32);
    let max_age = want
        .max_event_age_seconds
        .map_or(TARGET_MAX_EVENT_AGE_SECONDS, |n| n as i32);
    let existing = crate::aws::rule_targets(client, rule, bus)
        .await
        .map_err(|e| sdk_error(&format!("ListTargetsByRule {rule}"), e))?;
    let current = existing.iter().find(|t| t.id() == target_id);
    if let Some(t) = current {
        let same = t.arn() == function_arn
            && t.dead_letter_config().and_then(|d| d.arn()) == dlq_arn
            && t.retry_policy().and_then(|r| r.maximum_retry_attempts()) == Some(retries)
            && t.retry_policy()
                .and_then(|r| r.maximum_event_age_in_seconds())
                == Some(max_age)
            && t.input().is_none()
            && t.input_path().is_none()
            && t.input_transformer().is_none();
        if same {
            return Ok(Wired::Kept);
        }
    }
    let target = Target::builder()
        .id(target_id)
        .arn(function_arn)
        .set_dead_letter_config(dlq_arn.map(|a| DeadLetterConfig::builder().arn(a).build()))
        .retry_policy(
            TargetRetry::builder()
                .maximum_retry_attempts(retries)
                .maximum_event_age_in_seconds(max_age)
                .build(),
        )
        .build()
        .map_err(|e| StepError::permanent(format!("target {target_id}: {e}")))?;
    let out = client
        .put_targets()
        .rule(rule)
        .event_bus_name(bus)
        .targets(target)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("PutTargets {rule}"), e))?;
    if out.failed_entry_count() > 0 {
        let why: Vec<String> = out
            .failed_entries()
            .iter()
            .map(|f| {
                format!(
                    "{}: {} {}",
                    f.target_id().unwrap_or("?"),
                    f.error_code().unwrap_or(""),
                    f.error_message().unwrap_or("")
                )
            })
            .collect();
        let message = format!("PutTargets {rule} failed: {}", why.join("; "));
        return Err(match crate::engine::classify_text(&message) {
            crate::engine::ErrorClass::Transient => StepError::transient(message),
            crate::engine::ErrorClass::Permanent => StepError::permanent(message),
        });
    }
    Ok(if current.is_some() {
        Wired::Replaced
    } else {
        Wired::Created
    })
}

/// The event source mapping from `queue_arn` to `function`'s alias `qualifier`: reused when one
/// exists (moved to the alias if it invokes the function unqualified, made to report batch item
/// failures and enabled if it was not: one update, so the queue is read throughout), created
/// otherwise. Returns its UUID.
pub async fn ensure_queue_mapping(
    client: &aws_sdk_lambda::Client,
    function: &str,
    qualifier: &str,
    queue_arn: &str,
    tags: &std::collections::BTreeMap<String, String>,
) -> Result<(String, Wired), StepError> {
    let qualified = format!("{function}:{qualifier}");
    let what = format!("event source mapping {queue_arn} -> {qualified}");
    let list = client
        .list_event_source_mappings()
        .event_source_arn(queue_arn)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("ListEventSourceMappings {queue_arn}"), e))?;
    let invokes = |m: &&EventSourceMappingConfiguration| {
        m.event_source_arn() == Some(queue_arn)
            && m.function_arn()
                .is_some_and(|a| invoked_function(a) == function)
    };
    let existing = list.event_source_mappings().iter().find(invokes);
    let (uuid, wired) = if let Some(m) = existing {
        let uuid = m.uuid().unwrap_or_default().to_string();
        let reports = m
            .function_response_types()
            .contains(&FunctionResponseType::ReportBatchItemFailures);
        let enabled = matches!(
            m.state(),
            Some("Enabled" | "Enabling" | "Creating" | "Updating")
        );
        let on_alias = m
            .function_arn()
            .is_some_and(|a| a.ends_with(&format!(":{qualified}")));
        if reports && enabled && on_alias {
            return Ok((uuid, Wired::Kept));
        }
        client
            .update_event_source_mapping()
            .uuid(&uuid)
            .function_name(&qualified)
            .enabled(true)
            .function_response_types(FunctionResponseType::ReportBatchItemFailures)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("UpdateEventSourceMapping {uuid}"), e))?;
        (uuid, Wired::Replaced)
    } else {
        let out = client
            .create_event_source_mapping()
            .function_name(&qualified)
            .event_source_arn(queue_arn)
            .batch_size(ESM_BATCH_SIZE)
            .enabled(true)
            .function_response_types(FunctionResponseType::ReportBatchItemFailures)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| {
                let err = sdk_error(&format!("CreateEventSourceMapping for {qualified}"), e);
                // A role policy granted moments ago may not be visible to Lambda yet.
                if err.message.contains("does not have permissions") {
                    StepError::transient(err.message)
                } else {
                    err
                }
            })?;
        (out.uuid.unwrap_or_default(), Wired::Created)
    };
    wait_enabled(client, &uuid, &what).await?;
    Ok((uuid, wired))
}

/// The name of the function a (possibly qualified) function ARN invokes.
pub fn invoked_function(function_arn: &str) -> &str {
    let unqualified = super::version::unqualified(function_arn);
    unqualified.rsplit(':').next().unwrap_or(unqualified)
}

async fn wait_enabled(
    client: &aws_sdk_lambda::Client,
    uuid: &str,
    what: &str,
) -> Result<(), StepError> {
    let mut poll = Poller::new(Duration::from_secs(120));
    loop {
        let m = client
            .get_event_source_mapping()
            .uuid(uuid)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("GetEventSourceMapping {uuid}"), e))?;
        let state = m.state().unwrap_or("Enabled").to_string();
        if state == "Enabled" {
            return Ok(());
        }
        if state == "Disabled" || state == "Deleting" {
            return Err(StepError::permanent(format!(
                "{what} is {state}: {}",
                m.state_transition_reason().unwrap_or("no reason given")
            )));
        }
        if !poll.wait().await {
            return Err(StepError::transient(format!("{what} is still {state}")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statement_must_name_events_invoke_and_the_rule() {
        let rule = "arn:aws:events:us-east-1:1:rule/bus/r";
        let good = json!({"Sid": "s", "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Condition": {"ArnLike": {"AWS:SourceArn": rule}}});
        assert!(statement_matches(&good, rule));
        let mut other_rule = good.clone();
        other_rule["Condition"]["ArnLike"]["AWS:SourceArn"] = json!("arn:other");
        assert!(!statement_matches(&other_rule, rule));
        let mut unscoped = good.clone();
        unscoped["Condition"] = json!(null);
        assert!(!statement_matches(&unscoped, rule));
        let mut everyone = good.clone();
        everyone["Principal"] = json!("*");
        assert!(!statement_matches(&everyone, rule));
    }

    #[test]
    fn statement_ids_are_stable_and_bounded() {
        assert_eq!(
            statement_id("dev-all-events-to-logger"),
            "deploy-events-dev-all-events-to-logger"
        );
        assert!(statement_id(&"x".repeat(200)).len() <= 100);
        assert_eq!(
            alias_statement_id("dev-all-events-to-logger"),
            "deploy-live-dev-all-events-to-logger"
        );
        assert_ne!(alias_statement_id("r"), statement_id("r"));
    }

    #[test]
    fn a_mappings_function_is_read_from_its_arn_with_or_without_alias() {
        let f = "arn:aws:lambda:us-east-1:1:function:dev-dead-letter-processor";
        assert_eq!(invoked_function(f), "dev-dead-letter-processor");
        assert_eq!(
            invoked_function(&format!("{f}:live")),
            "dev-dead-letter-processor"
        );
    }
}

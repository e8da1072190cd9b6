//! Finding what the deployed consumers logged: `FilterLogEvents` polled with a deadline.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;

use crate::aws::{error_code, sdk_error};
use crate::engine::Poller;
use crate::engine::StepError;

pub const EVENT_RECEIVED: &str = "EVENT_RECEIVED";

/// A structured log line of type `log_type`, parsed from the first `{` (on AWS the line is
/// prefixed by `timestamp\trequestId\tINFO\t`).
pub fn structured(message: &str, log_type: &str) -> Option<Value> {
    if !message.contains(&format!("\"{log_type}\"")) {
        return None;
    }
    let start = message.find('{')?;
    let mut de = serde_json::Deserializer::from_str(&message[start..]).into_iter::<Value>();
    let v = de.next()?.ok()?;
    (v["logType"] == log_type).then_some(v)
}

/// The log group of a Lambda function.
pub fn log_group(function: &str) -> String {
    format!("/aws/lambda/{function}")
}

/// Every `log_type` line in `group` since `since_ms` (milliseconds since the epoch). A group
/// that does not exist yet (the function never ran) holds none.
pub async fn lines(
    client: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    log_type: &str,
    since_ms: i64,
) -> Result<Vec<Value>, StepError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .filter_log_events()
            .log_group_name(group)
            .start_time(since_ms)
            .filter_pattern(format!("\"{log_type}\""))
            .set_next_token(token.clone())
            .send()
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => return Ok(out),
            Err(e) => return Err(sdk_error(&format!("FilterLogEvents {group}"), e)),
        };
        out.extend(
            page.events()
                .iter()
                .filter_map(|e| e.message())
                .filter_map(|m| structured(m, log_type)),
        );
        match page.next_token {
            Some(t) if !t.is_empty() && Some(&t) != token.as_ref() => token = Some(t),
            _ => return Ok(out),
        }
    }
}

/// Polls `group` until an `EVENT_RECEIVED` line exists for every id in `ids`, or `timeout`.
/// Returns the ids found, each with its line.
pub async fn find_received(
    client: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    ids: &BTreeSet<String>,
    since_ms: i64,
    timeout: Duration,
) -> Result<BTreeMap<String, Value>, StepError> {
    let mut found = BTreeMap::new();
    let mut poll = Poller::new(timeout);
    loop {
        for line in lines(client, group, EVENT_RECEIVED, since_ms).await? {
            if let Some(id) = line["eventId"].as_str().filter(|id| ids.contains(*id)) {
                found.insert(id.to_string(), line.clone());
            }
        }
        if found.len() == ids.len() || !poll.wait().await {
            return Ok(found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_with_and_without_the_lambda_prefix() {
        let bare = r#"{"logType":"EVENT_RECEIVED","eventId":"e1","source":"custom.x"}"#;
        assert_eq!(structured(bare, EVENT_RECEIVED).unwrap()["eventId"], "e1");
        let aws = format!("2024-05-01T00:00:00.000Z\tabc-123\tINFO\t{bare}\n");
        assert_eq!(structured(&aws, EVENT_RECEIVED).unwrap()["eventId"], "e1");
        let metric = r#"{"logType":"METRIC","note":"EVENT_RECEIVED"}"#;
        assert!(structured(metric, EVENT_RECEIVED).is_none());
        assert!(structured("START RequestId: x", EVENT_RECEIVED).is_none());
        assert!(structured("\"EVENT_RECEIVED\" {broken", EVENT_RECEIVED).is_none());
    }
}

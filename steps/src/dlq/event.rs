//! One dead-lettered message as EventBridge writes it (the original event as the body; the
//! `RULE_ARN`, `TARGET_ARN`, `ERROR_CODE` and `ERROR_MESSAGE` message attributes), and the pure
//! rules the operations share with the dead-letter-processor Lambda
//! (`lambdas/dead-letter-processor/lib.mjs`): which bus an event was meant for, how many times
//! it was re-published (`detail._replay.attempt`), and the `PutEvents` entry that re-publishes
//! it with that counter incremented.

use std::collections::HashMap;

use aws_sdk_sqs::types::{Message, MessageAttributeValue, MessageSystemAttributeName};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The processor's `DEFAULT_MAX_REPUBLISH`: re-publishes of one event before it is left alone.
pub const DEFAULT_MAX_REPUBLISH: u64 = 3;

/// A message of the dead-letter queue, as received.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub message_id: String,
    pub receipt_handle: String,
    /// The message body: the original EventBridge event, as EventBridge wrote it.
    pub body: String,
    /// The body, when it is a JSON object.
    pub event: Option<Map<String, Value>>,
    pub rule_arn: Option<String>,
    pub target_arn: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// When SQS accepted it, in milliseconds since the epoch.
    pub sent_at_ms: Option<i64>,
    /// The function whose asynchronous invocation failed, when the message is Lambda's
    /// on-failure record (then `event` is the event it was invoked with).
    pub function_arn: Option<String>,
}

impl DeadLetter {
    /// The message as received (`None` for one without an id or a receipt handle).
    pub fn from_message(m: &Message) -> Option<DeadLetter> {
        let body = m.body().unwrap_or_default().to_string();
        let mut event = match serde_json::from_str(&body) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        };
        let envelope = event.as_ref().and_then(super::envelope::parse);
        if let Some(e) = &envelope {
            event = e.event.clone();
        }
        let attrs = m.message_attributes();
        let sent_at_ms = m
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
            .and_then(|t| t.parse().ok());
        Some(DeadLetter {
            message_id: m.message_id()?.to_string(),
            receipt_handle: m.receipt_handle()?.to_string(),
            body,
            event,
            rule_arn: attribute(attrs, "RULE_ARN"),
            target_arn: attribute(attrs, "TARGET_ARN"),
            error_code: attribute(attrs, "ERROR_CODE")
                .or_else(|| envelope.as_ref().and_then(|e| e.condition.clone())),
            error_message: attribute(attrs, "ERROR_MESSAGE")
                .or_else(|| envelope.as_ref().and_then(|e| e.error.clone())),
            sent_at_ms,
            function_arn: envelope.map(|e| e.function_arn),
        })
    }

    fn field(&self, key: &str) -> Option<&str> {
        self.event.as_ref()?.get(key)?.as_str()
    }

    pub fn event_id(&self) -> Option<&str> {
        self.field("id")
    }

    pub fn source(&self) -> Option<&str> {
        self.field("source").filter(|s| !s.is_empty())
    }

    pub fn detail_type(&self) -> Option<&str> {
        self.field("detail-type").filter(|s| !s.is_empty())
    }

    /// How many times the processor or a redrive re-published this event already.
    pub fn attempt(&self) -> u64 {
        let detail = self
            .event
            .as_ref()
            .and_then(|e| detail_object(e.get("detail")));
        replay_attempt(detail.as_ref())
    }

    /// Its age at `now_ms`, in whole seconds.
    pub fn age_seconds(&self, now_ms: i64) -> Option<u64> {
        self.sent_at_ms
            .map(|sent| u64::try_from((now_ms - sent).max(0) / 1000).unwrap_or(0))
    }
}

/// A string message attribute, as EventBridge sets them.
fn attribute(attrs: Option<&HashMap<String, MessageAttributeValue>>, name: &str) -> Option<String> {
    attrs?.get(name)?.string_value().map(str::to_string)
}

/// The bus of a rule ARN, `arn:aws:events:<region>:<account>:rule/<bus>/<rule>`; `None` for a
/// rule of the default bus (`rule/<rule>`) or anything else (the processor's
/// `busNameFromRuleArn`).
pub fn bus_from_rule_arn(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, _region, _account, resource] = parts[..] else {
        return None;
    };
    if prefix != "arn" || partition.is_empty() || service != "events" {
        return None;
    }
    let rest = resource.strip_prefix("rule/")?;
    match rest.split('/').collect::<Vec<_>>()[..] {
        [bus, rule] if !bus.is_empty() && !rule.is_empty() => Some(bus),
        _ => None,
    }
}

/// The event's `detail` as an object: itself, or the object a JSON string holds (the processor's
/// `detailAsObject`).
fn detail_object(detail: Option<&Value>) -> Option<Map<String, Value>> {
    match detail? {
        Value::Object(m) => Some(m.clone()),
        Value::String(s) => match serde_json::from_str(s) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        },
        _ => None,
    }
}

/// `detail._replay.attempt` when it is a whole number ≥ 0, else 0 (the processor's
/// `replayAttempt`).
pub fn replay_attempt(detail: Option<&Map<String, Value>>) -> u64 {
    let attempt = detail
        .and_then(|d| d.get("_replay"))
        .and_then(Value::as_object)
        .and_then(|r| r.get("attempt"));
    match attempt {
        Some(Value::Number(n)) => n.as_u64().unwrap_or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
                .map_or(0, |f| f as u64)
        }),
        _ => 0,
    }
}

/// The processor's `MAX_REPUBLISH` as it reads it: a whole number ≥ 0, else the default.
pub fn max_republish(raw: Option<&str>) -> u64 {
    raw.map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_MAX_REPUBLISH)
}

/// A `PutEvents` entry that re-publishes a dead-lettered event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayEntry {
    pub bus: String,
    pub source: String,
    pub detail_type: String,
    /// The detail as sent: the original one with `_replay` set.
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
}

impl ReplayEntry {
    /// Its size as `PutEvents` counts it (source, detail type, detail and resources).
    pub fn size(&self) -> usize {
        self.source.len()
            + self.detail_type.len()
            + self.detail.len()
            + self.resources.iter().map(String::len).sum::<usize>()
    }
}

/// What a re-publish records in `detail._replay`.
#[derive(Debug, Clone, Copy)]
pub struct Replay<'a> {
    pub bus: &'a str,
    /// This re-publish's attempt number (the previous one + 1).
    pub attempt: u64,
    pub error_code: Option<&'a str>,
    pub message_id: &'a str,
    pub now: Timestamp,
}

/// The entry re-publishing `letter`'s event as the processor's `buildReplayEntry` builds it:
/// the same source, detail type and resources, the detail with `_replay = {attempt,
/// originalEventId, lastErrorCode, lastMessageId, republishedAt}`. `None` when the body is not
/// an EventBridge event (no source or detail type).
pub fn replay_entry(letter: &DeadLetter, replay: Replay<'_>) -> Option<ReplayEntry> {
    let event = letter.event.as_ref()?;
    let (source, detail_type) = (letter.source()?, letter.detail_type()?);
    let mut detail = detail_object(event.get("detail")).unwrap_or_default();
    let previous = detail.get("_replay").and_then(Value::as_object);
    let original = previous
        .and_then(|p| p.get("originalEventId"))
        .and_then(Value::as_str)
        .map(Value::from)
        .unwrap_or_else(|| event.get("id").cloned().unwrap_or(Value::Null));
    detail.insert(
        "_replay".into(),
        json!({
            "attempt": replay.attempt,
            "originalEventId": original,
            "lastErrorCode": replay.error_code,
            "lastMessageId": replay.message_id,
            "republishedAt": iso_millis(replay.now),
        }),
    );
    let resources = match event.get("resources") {
        Some(Value::Array(rs)) => rs
            .iter()
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    Some(ReplayEntry {
        bus: replay.bus.to_string(),
        source: source.to_string(),
        detail_type: detail_type.to_string(),
        detail: Value::Object(detail).to_string(),
        resources,
    })
}

/// `2024-05-01T12:00:00.000Z`, as JavaScript's `toISOString`.
fn iso_millis(t: Timestamp) -> String {
    let ms = Timestamp::from_millisecond(t.as_millisecond()).unwrap_or(t);
    format!("{ms:.3}")
}

/// The line of an export for a message body (without its newline): the body itself when it is
/// JSON on one line (as EventBridge writes it), re-serialized on one line when it is JSON over
/// several, and as a JSON string when it is not JSON at all (so that the file stays JSONL and
/// nothing is lost). The flag says whether the body was JSON.
pub fn jsonl_line(body: &str) -> (String, bool) {
    match serde_json::from_str::<Value>(body) {
        Ok(_) if !body.contains(['\n', '\r']) => (body.trim().to_string(), true),
        Ok(v) => (v.to_string(), true),
        Err(_) => (Value::String(body.to_string()).to_string(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(body: Value) -> DeadLetter {
        DeadLetter {
            message_id: "m-1".into(),
            receipt_handle: "h".into(),
            body: body.to_string(),
            event: body.as_object().cloned(),
            rule_arn: None,
            target_arn: None,
            error_code: Some("THROTTLING".into()),
            error_message: None,
            sent_at_ms: Some(1_000),
            function_arn: None,
        }
    }

    fn event(detail: Value) -> Value {
        json!({"version": "0", "id": "e-1", "source": "custom.a", "detail-type": "A",
               "resources": ["arn:r", 3], "detail": detail})
    }

    fn replay(attempt: u64) -> Replay<'static> {
        Replay {
            bus: "b",
            attempt,
            error_code: Some("THROTTLING"),
            message_id: "m-1",
            now: "2024-05-01T12:00:00.5Z".parse().unwrap(),
        }
    }

    #[test]
    fn the_bus_is_read_from_a_rule_arn_of_a_custom_bus_only() {
        let arn = "arn:aws:events:us-east-1:123456789012:rule/dev-application-events/r1";
        assert_eq!(bus_from_rule_arn(arn), Some("dev-application-events"));
        let china = "arn:aws-cn:events:cn-north-1:1:rule/b/r";
        assert_eq!(bus_from_rule_arn(china), Some("b"));
        for none in [
            "arn:aws:events:us-east-1:1:rule/default-bus-rule",
            "arn:aws:events:us-east-1:1:rule/b/r/extra",
            "arn:aws:events:us-east-1:1:rule//r",
            "arn:aws:sqs:us-east-1:1:rule/b/r",
            "arn::events:us-east-1:1:rule/b/r",
            "arn:aws:events:us-east-1:1:event-bus/b",
            "not an arn",
            "",
        ] {
            assert_eq!(bus_from_rule_arn(none), None, "{none}");
        }
    }

    #[test]
    fn the_attempt_is_a_whole_number_at_least_zero_or_zero() {
        let of = |d: Value| replay_attempt(d.as_object());
        assert_eq!(of(json!({})), 0);
        assert_eq!(of(json!({"_replay": {"attempt": 2}})), 2);
        assert_eq!(of(json!({"_replay": {"attempt": 2.0}})), 2);
        for odd in [json!(-1), json!(1.5), json!("2"), json!(null)] {
            assert_eq!(of(json!({"_replay": {"attempt": odd}})), 0, "{odd}");
        }
        assert_eq!(of(json!({"_replay": 3})), 0);
        let as_text = letter(event(json!("{\"_replay\":{\"attempt\":3}}")));
        assert_eq!(as_text.attempt(), 3, "a detail given as JSON text");
    }

    #[test]
    fn max_republish_reads_as_the_processor_does() {
        assert_eq!(max_republish(None), 3);
        assert_eq!(max_republish(Some("")), 3);
        assert_eq!(max_republish(Some("5")), 5);
        assert_eq!(max_republish(Some("0")), 0);
        assert_eq!(max_republish(Some("-1")), 3);
        assert_eq!(max_republish(Some("2.5")), 3);
    }

    #[test]
    fn a_first_replay_records_the_original_event_and_increments_the_counter() {
        let l = letter(event(json!({"userId": "u-1"})));
        let e = replay_entry(&l, replay(l.attempt() + 1)).unwrap();
        assert_eq!((e.bus.as_str(), e.source.as_str()), ("b", "custom.a"));
        assert_eq!(e.detail_type, "A");
        assert_eq!(e.resources, vec!["arn:r".to_string()]);
        let detail: Value = serde_json::from_str(&e.detail).unwrap();
        assert_eq!(detail["userId"], "u-1");
        assert_eq!(
            detail["_replay"],
            json!({"attempt": 1, "originalEventId": "e-1", "lastErrorCode": "THROTTLING",
                   "lastMessageId": "m-1", "republishedAt": "2024-05-01T12:00:00.500Z"})
        );
    }

    #[test]
    fn a_later_replay_keeps_the_first_event_id() {
        let previous = json!({"attempt": 1, "originalEventId": "e-0"});
        let l = letter(event(json!({"_replay": previous, "k": 1})));
        assert_eq!(l.attempt(), 1);
        let e = replay_entry(&l, replay(2)).unwrap();
        let detail: Value = serde_json::from_str(&e.detail).unwrap();
        assert_eq!(detail["_replay"]["attempt"], 2);
        assert_eq!(detail["_replay"]["originalEventId"], "e-0");
        assert_eq!(detail["k"], 1);
    }

    #[test]
    fn only_an_eventbridge_event_can_be_replayed() {
        let no_source = json!({"id": "e", "detail-type": "A", "detail": {}});
        assert_eq!(replay_entry(&letter(no_source), replay(1)), None);
        let mut not_json = letter(json!({}));
        not_json.event = None;
        assert_eq!(replay_entry(&not_json, replay(1)), None);
        let odd_detail = letter(event(json!([1, 2])));
        let e = replay_entry(&odd_detail, replay(1)).unwrap();
        let detail: Value = serde_json::from_str(&e.detail).unwrap();
        assert_eq!(
            detail.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["_replay"]
        );
    }

    #[test]
    fn an_export_line_is_the_body_on_one_line() {
        let body = r#"{"id":"e-1","source":"s","detail":{"b":1,"a":2}}"#;
        assert_eq!(
            jsonl_line(body),
            (body.to_string(), true),
            "kept as written"
        );
        let (line, json) = jsonl_line("{\n  \"id\": \"e-1\"\n}");
        assert_eq!((line.as_str(), json), (r#"{"id":"e-1"}"#, true));
        let (line, json) = jsonl_line("not json\nat all");
        assert!(!json);
        assert_eq!(line, r#""not json\nat all""#);
        assert!(!line.contains('\n'));
    }

    #[test]
    fn an_age_is_whole_seconds_and_never_negative() {
        let l = letter(event(json!({})));
        assert_eq!(l.age_seconds(62_500), Some(61));
        assert_eq!(l.age_seconds(0), Some(0));
    }
}

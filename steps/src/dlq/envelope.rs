//! A function's failed asynchronous invocation, as Lambda sends it to its on-failure
//! destination (the dead-letter queue): a record holding the invocation's event
//! (`requestPayload`), the function and why it gave up (`requestContext`: `functionArn`,
//! `condition` such as `RetriesExhausted`), and how it failed (`responseContext.functionError`,
//! `responsePayload.errorType` / `errorMessage`).

use serde_json::{Map, Value};

/// What a Lambda on-failure record says.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The function (and version) that failed, as Lambda names it.
    pub function_arn: String,
    /// The event the function was invoked with (the original EventBridge event).
    pub event: Option<Map<String, Value>>,
    /// Why Lambda gave up: `RetriesExhausted`, `EventAgeExceeded`.
    pub condition: Option<String>,
    /// How the function failed: `errorType: errorMessage`, or `functionError`.
    pub error: Option<String>,
}

/// The record `body` is, when it is a Lambda on-failure record.
pub fn parse(body: &Map<String, Value>) -> Option<Envelope> {
    let context = body.get("requestContext")?.as_object()?;
    let function_arn = context.get("functionArn")?.as_str()?.to_string();
    body.get("requestPayload")?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let event = match body.get("requestPayload") {
        Some(Value::Object(m)) => Some(m.clone()),
        Some(Value::String(s)) => serde_json::from_str(s).ok(),
        _ => None,
    };
    let payload = body.get("responsePayload").and_then(Value::as_object);
    let message = text(payload.and_then(|p| p.get("errorMessage")));
    let kind = text(payload.and_then(|p| p.get("errorType")));
    let function_error = text(
        body.get("responseContext")
            .and_then(|r| r.get("functionError")),
    );
    let error = match (kind, message) {
        (Some(k), Some(m)) => Some(format!("{k}: {m}")),
        (None, Some(m)) => Some(m),
        (Some(k), None) => Some(k),
        (None, None) => function_error,
    };
    Some(Envelope {
        function_arn,
        event,
        condition: text(context.get("condition")),
        error,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_on_failure_record_names_the_function_the_event_and_the_error() {
        let body = json!({
            "version": "1.0",
            "requestContext": {
                "requestId": "r", "condition": "RetriesExhausted", "approximateInvokeCount": 3,
                "functionArn": "arn:aws:lambda:us-east-1:1:function:dev-event-logger:live"
            },
            "requestPayload": {"id": "e1", "source": "custom.upload-service",
                               "detail-type": "Audio Uploaded", "detail": {}},
            "responseContext": {"statusCode": 200, "executedVersion": "3",
                                "functionError": "Unhandled"},
            "responsePayload": {"errorType": "Error", "errorMessage": "boom"}
        });
        let e = parse(body.as_object().unwrap()).unwrap();
        assert!(e.function_arn.ends_with("dev-event-logger:live"));
        assert_eq!(e.event.unwrap()["id"], "e1");
        assert_eq!(e.condition.as_deref(), Some("RetriesExhausted"));
        assert_eq!(e.error.as_deref(), Some("Error: boom"));
    }

    #[test]
    fn an_eventbridge_event_is_no_on_failure_record() {
        let body = json!({"id": "e1", "source": "s", "detail-type": "d", "detail": {}});
        assert!(parse(body.as_object().unwrap()).is_none());
        let body = json!({"requestContext": {"functionArn": "f"},
                          "responseContext": {"functionError": "Unhandled"}});
        assert!(parse(body.as_object().unwrap()).is_none(), "no payload");
    }
}

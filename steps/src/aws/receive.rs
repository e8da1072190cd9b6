//! Taking messages of our own from a queue: the one place `ReceiveMessage` is called.

use aws_sdk_sqs::operation::receive_message::ReceiveMessageError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use serde_json::Value;

/// How long a received message stays hidden. Short, because an answer lost on the way back
/// (the SDK then retries the receive) would otherwise hide the message for the queue's whole
/// visibility timeout (30 s by default) — longer than a probe waits. Every caller counts
/// messages by event id, so one seen twice is counted once.
const HIDDEN_FOR_SECONDS: i32 = 3;

/// One receive (up to 10 messages, waiting up to a second): the JSON bodies `ours` accepts are
/// deleted and returned; any other message is left for its consumer (visible again within
/// seconds).
pub async fn take_messages(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    ours: impl Fn(&Value) -> bool,
) -> Result<Vec<Value>, SdkError<ReceiveMessageError, HttpResponse>> {
    let out = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .visibility_timeout(HIDDEN_FOR_SECONDS)
        .send()
        .await?;
    let mut taken = Vec::new();
    for m in out.messages() {
        let body: Value = serde_json::from_str(m.body().unwrap_or("")).unwrap_or_default();
        if !ours(&body) {
            continue;
        }
        if let Some(handle) = m.receipt_handle() {
            // A failed delete only means the message comes back; it was seen.
            let _ = sqs
                .delete_message()
                .queue_url(url)
                .receipt_handle(handle)
                .send()
                .await;
        }
        taken.push(body);
    }
    Ok(taken)
}

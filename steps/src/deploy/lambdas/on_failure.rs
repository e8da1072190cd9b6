//! A failing consumer loses nothing: EventBridge hands an event to Lambda asynchronously, and
//! once Lambda accepted it a handler that throws is retried by Lambda, then dropped, unless the
//! function's asynchronous invocations have an on-failure destination. Every managed function
//! gets one, on its alias and on `$LATEST` (an invocation by bare name): the hub's dead-letter
//! queue, with the retry attempts and maximum event age of its `[lambdas.<key>]`.

use aws_sdk_lambda::Client;
use aws_sdk_lambda::types::{DestinationConfig, OnFailure};

use crate::aws::{error_code, sdk_error};
use crate::engine::{RetryPolicy, StepError};

/// What a function's asynchronous invocations should do with a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnFailureConfig {
    pub retry_attempts: u32,
    pub max_event_age_seconds: u32,
    /// The on-failure destination (the dead-letter queue's ARN).
    pub destination: String,
}

impl OnFailureConfig {
    /// One line for the step log.
    pub fn describe(&self) -> String {
        format!(
            "{} retries within {}s, then {}",
            self.retry_attempts, self.max_event_age_seconds, self.destination
        )
    }
}

/// The event-invoke configuration of `name` (its alias `qualifier`, or `$LATEST`), as set.
pub async fn current(
    client: &Client,
    name: &str,
    qualifier: Option<&str>,
) -> Result<Option<OnFailureConfig>, StepError> {
    let got = client
        .get_function_event_invoke_config()
        .function_name(name)
        .set_qualifier(qualifier.map(str::to_string))
        .send()
        .await;
    match got {
        Ok(c) => Ok(Some(OnFailureConfig {
            retry_attempts: c.maximum_retry_attempts().unwrap_or(2).max(0) as u32,
            max_event_age_seconds: c.maximum_event_age_in_seconds().unwrap_or(21_600).max(0) as u32,
            destination: c
                .destination_config()
                .and_then(|d| d.on_failure())
                .and_then(|o| o.destination())
                .unwrap_or_default()
                .to_string(),
        })),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(sdk_error(
            &format!("GetFunctionEventInvokeConfig {name}"),
            e,
        )),
    }
}

/// Sets `want` on `name` (its alias `qualifier`, or `$LATEST`) unless it is set already;
/// returns whether it changed anything.
pub async fn ensure(
    client: &Client,
    policy: &RetryPolicy,
    name: &str,
    qualifier: Option<&str>,
    want: &OnFailureConfig,
) -> Result<bool, StepError> {
    if current(client, name, qualifier).await?.as_ref() == Some(want) {
        return Ok(false);
    }
    let what = format!(
        "PutFunctionEventInvokeConfig {name}{}",
        qualifier.map(|q| format!(":{q}")).unwrap_or_default()
    );
    let put = || async {
        client
            .put_function_event_invoke_config()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .maximum_retry_attempts(want.retry_attempts as i32)
            .maximum_event_age_in_seconds(want.max_event_age_seconds as i32)
            .destination_config(
                DestinationConfig::builder()
                    .on_failure(OnFailure::builder().destination(&want.destination).build())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                let conflict = error_code(&e) == Some("ResourceConflictException");
                let err = sdk_error(&what, e);
                // A role policy granted moments ago (SendMessage on the queue) may not be
                // visible to Lambda yet; an update of the function may still be applied.
                if conflict || err.message.contains("permission") {
                    StepError::transient(err.message)
                } else {
                    err
                }
            })
    };
    policy.retry(put).await?;
    Ok(true)
}

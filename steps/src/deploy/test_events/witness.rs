//! Where a target's deliveries are seen, and watching there until every event has arrived.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::aws::{AwsClients, error_code, sdk_error};
use crate::engine::{Poller, StepError};

/// Where the events a target received can be seen.
pub enum Witness<'a> {
    /// A function's log group, from `since_ms` (the handlers log each event's id).
    Log { group: &'a str, since_ms: i64 },
    /// A queue: the test's messages are deleted once seen.
    Queue { url: &'a str },
    /// A state machine's executions started since `since_ms` (their input is the event).
    Executions { arn: &'a str, since_ms: i64 },
}

impl Witness<'_> {
    /// Looks again and again until every id of `ids` is seen or `timeout` passes, and returns
    /// the ids seen. A look that fails for a reason waiting may fix is "not yet"; if the last
    /// one before the deadline failed, its error is the answer.
    pub async fn watch(
        &self,
        aws: &AwsClients,
        ids: &BTreeSet<String>,
        timeout: Duration,
    ) -> Result<BTreeSet<String>, StepError> {
        let mut found = BTreeSet::new();
        let mut poll = Poller::new(timeout);
        loop {
            poll.tolerate(self.look(aws, ids, &mut found).await)?;
            if ids.iter().all(|id| found.contains(id)) {
                return Ok(found);
            }
            if !poll.wait().await {
                return poll.finish(found);
            }
        }
    }

    /// One look: the ids of `ids` it sees join `found`.
    async fn look(
        &self,
        aws: &AwsClients,
        ids: &BTreeSet<String>,
        found: &mut BTreeSet<String>,
    ) -> Result<(), StepError> {
        match *self {
            Witness::Log { group, since_ms } => scan_log(aws, group, ids, since_ms, found).await,
            Witness::Queue { url } => {
                let ours = |b: &Value| b["id"].as_str().is_some_and(|id| ids.contains(id));
                let taken = crate::aws::take_messages(&aws.sqs, url, ours)
                    .await
                    .map_err(|e| sdk_error("ReceiveMessage", e))?;
                found.extend(
                    taken
                        .iter()
                        .filter_map(|b| b["id"].as_str().map(String::from)),
                );
                Ok(())
            }
            Witness::Executions { arn, since_ms } => {
                scan_executions(aws, arn, ids, since_ms, found).await
            }
        }
    }
}

/// One read of the log group since `since_ms`, page by page: the ids it mentions join `found`.
async fn scan_log(
    aws: &AwsClients,
    group: &str,
    ids: &BTreeSet<String>,
    since_ms: i64,
    found: &mut BTreeSet<String>,
) -> Result<(), StepError> {
    let mut token: Option<String> = None;
    loop {
        let page = aws
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(since_ms)
            .set_next_token(token.clone())
            .send()
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => return Ok(()),
            Err(e) => return Err(sdk_error(&format!("FilterLogEvents {group}"), e)),
        };
        for m in page.events().iter().filter_map(|e| e.message()) {
            found.extend(ids.iter().filter(|id| m.contains(id.as_str())).cloned());
        }
        match page.next_token {
            Some(t) if !t.is_empty() && Some(&t) != token.as_ref() => token = Some(t),
            _ => return Ok(()),
        }
    }
}

/// One look at the executions started since `since_ms`: the ids their inputs carry join `found`.
async fn scan_executions(
    aws: &AwsClients,
    arn: &str,
    ids: &BTreeSet<String>,
    since_ms: i64,
    found: &mut BTreeSet<String>,
) -> Result<(), StepError> {
    let list = aws
        .sfn
        .list_executions()
        .state_machine_arn(arn)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("ListExecutions {arn}"), e))?;
    for ex in list.executions() {
        if ex.start_date().secs() * 1000 < since_ms {
            continue;
        }
        let described = aws
            .sfn
            .describe_execution()
            .execution_arn(ex.execution_arn())
            .send()
            .await
            .map_err(|e| sdk_error("DescribeExecution", e))?;
        let input = described.input().unwrap_or_default();
        found.extend(ids.iter().filter(|id| input.contains(id.as_str())).cloned());
    }
    Ok(())
}

//! A rule's targets, every page of them: the one place `ListTargetsByRule` is called.

use aws_sdk_eventbridge::operation::list_targets_by_rule::ListTargetsByRuleError;
use aws_sdk_eventbridge::types::Target;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

/// Every target of `rule` on `bus`, following `NextToken` to the last page.
pub async fn rule_targets(
    events: &aws_sdk_eventbridge::Client,
    rule: &str,
    bus: &str,
) -> Result<Vec<Target>, SdkError<ListTargetsByRuleError, HttpResponse>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = events
            .list_targets_by_rule()
            .rule(rule)
            .event_bus_name(bus)
            .set_next_token(token.take())
            .send()
            .await?;
        out.extend(page.targets().iter().cloned());
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

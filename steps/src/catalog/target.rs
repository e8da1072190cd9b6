//! A rule's targets (`AWS::Events::Target`, in CloudFormation a property of the rule):
//! identified by the rule (`attributes.rule`), its bus and the target id (the name). Read from
//! the rule's one paged `ListTargetsByRule` per pass; removing them is written here only.

use async_trait::async_trait;
use deploy_state::Resource;

use super::{Cx, Gone, Health, Kind};
use crate::aws::{AwsClients, is_not_found, sdk_error};
use crate::engine::StepError;

pub struct Target;

#[async_trait]
impl Kind for Target {
    fn aws_type(&self) -> &'static str {
        "AWS::Events::Target"
    }

    fn terraform_type(&self) -> Option<&'static str> {
        Some("aws_cloudwatch_event_target")
    }

    async fn look_up(&self, cx: &Cx<'_>, r: &Resource) -> Health {
        let rule = r.attributes.rule.as_deref().unwrap_or_default();
        let ids = cx.lookups.target_ids(cx.aws, rule, r.bus()).await;
        Health::listed(r, ids.map(|ids| ids.contains(&r.name)), "attached")
    }

    async fn delete(&self, aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
        let rule = r.attributes.rule.as_deref().unwrap_or_default();
        let removed = remove(aws, rule, r.bus(), std::slice::from_ref(&r.name)).await?;
        Ok(if removed {
            Gone::Deleted
        } else {
            Gone::AlreadyGone
        })
    }
}

/// What emptying a rule did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Emptied {
    /// The ids of the targets removed (none: it had none, or the rule is gone).
    Removed(Vec<String>),
    /// The rule is managed by an AWS service (named): left alone.
    Managed(String),
}

/// Removes every target of `rule` on `bus` (all pages); refuses to touch a rule AWS manages.
pub async fn remove_all_targets(
    aws: &AwsClients,
    rule: &str,
    bus: &str,
) -> Result<Emptied, StepError> {
    let described = aws
        .events
        .describe_rule()
        .name(rule)
        .event_bus_name(bus)
        .send()
        .await;
    match described {
        Ok(d) if d.managed_by().is_some() => {
            return Ok(Emptied::Managed(d.managed_by().unwrap_or("").to_string()));
        }
        Ok(_) => {}
        Err(e) if is_not_found(&e) => return Ok(Emptied::Removed(Vec::new())),
        Err(e) => return Err(sdk_error("events:DescribeRule", e)),
    }
    let mut removed = Vec::new();
    loop {
        // Always read the first page again: removal shifts the pages.
        let page = aws
            .events
            .list_targets_by_rule()
            .rule(rule)
            .event_bus_name(bus)
            .send()
            .await;
        let ids: Vec<String> = match page {
            Ok(p) => p.targets().iter().map(|t| t.id().to_string()).collect(),
            Err(e) if is_not_found(&e) => return Ok(Emptied::Removed(removed)),
            Err(e) => return Err(sdk_error("events:ListTargetsByRule", e)),
        };
        if ids.is_empty() || !remove(aws, rule, bus, &ids).await? {
            return Ok(Emptied::Removed(removed));
        }
        removed.extend(ids);
    }
}

/// Removes the targets `ids` of `rule`; `Ok(false)` when the rule is gone.
async fn remove(
    aws: &AwsClients,
    rule: &str,
    bus: &str,
    ids: &[String],
) -> Result<bool, StepError> {
    let out = aws
        .events
        .remove_targets()
        .rule(rule)
        .event_bus_name(bus)
        .set_ids(Some(ids.to_vec()))
        .send()
        .await;
    let out = match out {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(false),
        Err(e) => return Err(sdk_error("events:RemoveTargets", e)),
    };
    if out.failed_entry_count() > 0 {
        return Err(StepError::transient(format!(
            "events:RemoveTargets on {rule}: {} target(s) not removed",
            out.failed_entry_count()
        )));
    }
    Ok(true)
}

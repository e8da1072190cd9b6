//! The event bus (`AWS::Events::EventBus`). Tagged; goes after its rules and its archive.

use async_trait::async_trait;
use aws_sdk_eventbridge::operation::describe_event_bus::{
    DescribeEventBusError, DescribeEventBusOutput,
};
use deploy_state::{Resource, ResourceKind};

use super::{Arn, Cx, Gone, Health, Kind, Tags, gone, sdk};
use crate::aws::AwsClients;
use crate::engine::StepError;

pub struct Bus;

#[async_trait]
impl Kind for Bus {
    fn aws_type(&self) -> &'static str {
        "AWS::Events::EventBus"
    }

    fn terraform_type(&self) -> Option<&'static str> {
        Some("aws_cloudwatch_event_bus")
    }

    fn after(&self) -> &'static [ResourceKind] {
        &[ResourceKind::Rule, ResourceKind::Archive]
    }

    async fn look_up(&self, cx: &Cx<'_>, r: &Resource) -> Health {
        let found = describe(cx.aws, &r.name).await;
        Health::from_result(r, sdk(found), |_| (true, "present".into()))
    }

    async fn tags(&self, cx: &Cx<'_>, r: &Resource) -> Option<Tags> {
        let found = describe(cx.aws, &r.name).await;
        events_tags(cx.aws, found.ok()?.arn()?).await
    }

    fn checks_tags(&self) -> bool {
        true
    }

    fn recognise(&self, arn: Arn<'_>) -> Option<Resource> {
        let name = arn.resource.strip_prefix("event-bus/")?;
        (arn.service == "events")
            .then(|| Resource::new(ResourceKind::EventBus, name, "discovery").with_arn(arn.whole))
    }

    async fn delete(&self, aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
        gone(
            "events:DeleteEventBus",
            aws.events.delete_event_bus().name(&r.name).send().await,
        )
    }
}

/// The tags of an EventBridge resource (a bus or a rule), by its ARN.
pub(super) async fn events_tags(aws: &AwsClients, arn: &str) -> Option<Tags> {
    let out = aws
        .events
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .ok()?;
    Some(super::tag_map(
        out.tags().iter().map(|t| (t.key(), t.value())),
    ))
}

async fn describe(
    aws: &AwsClients,
    name: &str,
) -> Result<DescribeEventBusOutput, crate::aws::AwsError<DescribeEventBusError>> {
    aws.events.describe_event_bus().name(name).send().await
}

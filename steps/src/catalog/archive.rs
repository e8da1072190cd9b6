//! The archive (`AWS::Events::Archive`). It cannot carry tags: an archive is this deployment's
//! when the bus it archives is, and discovery finds it through the buses found by their tags.

use async_trait::async_trait;
use aws_sdk_eventbridge::operation::describe_archive::{
    DescribeArchiveError, DescribeArchiveOutput,
};
use deploy_state::{Resource, ResourceKind};

use super::{Applied, Cx, Gone, Health, Kind, Tags, gone, of, sdk, state_in};
use crate::aws::{AwsClients, sdk_error};
use crate::engine::StepError;

pub struct Archive;

#[async_trait]
impl Kind for Archive {
    fn aws_type(&self) -> &'static str {
        "AWS::Events::Archive"
    }

    fn terraform_type(&self) -> Option<&'static str> {
        Some("aws_cloudwatch_event_archive")
    }

    async fn look_up(&self, cx: &Cx<'_>, r: &Resource) -> Health {
        let found = describe(cx.aws, &r.name).await;
        // Any state: an archive that exists keeps events.
        Health::from_result(r, sdk(found), |o| {
            (true, state_in(&[], o.state().map(|s| s.as_str())).1)
        })
    }

    /// Keeps events as long as applied.
    async fn drift(
        &self,
        cx: &Cx<'_>,
        r: &Resource,
        applied: &Applied,
        _h: &Health,
    ) -> Vec<String> {
        let Some(want) = applied.of(r).and_then(|a| a["retention_days"].as_i64()) else {
            return Vec::new();
        };
        let got = describe(cx.aws, &r.name)
            .await
            .ok()
            .and_then(|o| o.retention_days());
        match got {
            Some(got) if i64::from(got) != want => vec![format!(
                "archive {} keeps events {got} days instead of {want}",
                r.name
            )],
            _ => Vec::new(),
        }
    }

    /// The archives of the buses found so far.
    async fn find(
        &self,
        aws: &AwsClients,
        _tags: &Tags,
        found: &[Resource],
    ) -> Result<Vec<Resource>, StepError> {
        let mut out = Vec::new();
        for bus in found.iter().filter(|r| r.kind == ResourceKind::EventBus) {
            let arn = match aws.events.describe_event_bus().name(&bus.name).send().await {
                Ok(o) => o.arn().unwrap_or_default().to_string(),
                Err(_) => continue,
            };
            let list = aws
                .events
                .list_archives()
                .event_source_arn(&arn)
                .send()
                .await
                .map_err(|e| sdk_error("events:ListArchives", e))?;
            for a in list.archives() {
                if let Some(name) = a.archive_name() {
                    out.push(
                        Resource::new(ResourceKind::Archive, name, "discovery").on_bus(&bus.name),
                    );
                }
            }
        }
        Ok(out)
    }

    /// Ours when the bus it archives is.
    async fn proven_ours(&self, cx: &Cx<'_>, r: &Resource, tags: &Tags) -> bool {
        let source = describe(cx.aws, &r.name)
            .await
            .ok()
            .and_then(|o| o.event_source_arn().map(str::to_string));
        let Some(bus) = source.and_then(|a| a.rsplit('/').next().map(str::to_string)) else {
            return false;
        };
        let bus = Resource::new(ResourceKind::EventBus, &bus, "");
        of(ResourceKind::EventBus).proven_ours(cx, &bus, tags).await
    }

    async fn delete(&self, aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
        gone(
            "events:DeleteArchive",
            aws.events
                .delete_archive()
                .archive_name(&r.name)
                .send()
                .await,
        )
    }
}

async fn describe(
    aws: &AwsClients,
    name: &str,
) -> Result<DescribeArchiveOutput, crate::aws::AwsError<DescribeArchiveError>> {
    aws.events
        .describe_archive()
        .archive_name(name)
        .send()
        .await
}

//! Event-source mappings (`AWS::Lambda::EventSourceMapping`): a queue read by a function.
//! Identified by UUID (the name), with its function (`attributes.function`). Healthy when
//! enabled.

use async_trait::async_trait;
use deploy_state::{Resource, ResourceKind};

use super::{Arn, Cx, Gone, Health, Kind, gone, sdk, state_in};
use crate::aws::AwsClients;
use crate::engine::StepError;

pub struct Mapping;

#[async_trait]
impl Kind for Mapping {
    fn aws_type(&self) -> &'static str {
        "AWS::Lambda::EventSourceMapping"
    }

    async fn look_up(&self, cx: &Cx<'_>, r: &Resource) -> Health {
        let found = cx
            .aws
            .lambda
            .get_event_source_mapping()
            .uuid(&r.name)
            .send()
            .await;
        Health::from_result(r, sdk(found), |o| {
            state_in(&["Enabled", "Enabling"], o.state())
        })
    }

    /// A mapping that exists but is not enabled has drifted: the queue is not read.
    async fn drift(
        &self,
        _cx: &Cx<'_>,
        r: &Resource,
        _applied: &super::Applied,
        h: &Health,
    ) -> Vec<String> {
        if h.healthy {
            return Vec::new();
        }
        vec![format!("event-source mapping {} is {}", r.name, h.detail)]
    }

    fn recognise(&self, arn: Arn<'_>) -> Option<Resource> {
        let uuid = arn.resource.strip_prefix("event-source-mapping:")?;
        (arn.service == "lambda").then(|| {
            Resource::new(ResourceKind::EventSourceMapping, uuid, "discovery").with_arn(arn.whole)
        })
    }

    async fn delete(&self, aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
        delete_mapping(aws, &r.name).await
    }
}

/// Deletes the mapping `uuid`.
pub async fn delete_mapping(aws: &AwsClients, uuid: &str) -> Result<Gone, StepError> {
    gone(
        "lambda:DeleteEventSourceMapping",
        aws.lambda
            .delete_event_source_mapping()
            .uuid(uuid)
            .send()
            .await,
    )
}

/// Deletes every mapping that invokes `function` (all pages).
pub(super) async fn delete_mappings_of(aws: &AwsClients, function: &str) -> Result<(), StepError> {
    let mut pages = aws
        .lambda
        .list_event_source_mappings()
        .function_name(function)
        .into_paginator()
        .send();
    while let Some(Ok(page)) = pages.next().await {
        for m in page.event_source_mappings() {
            delete_mapping(aws, m.uuid().unwrap_or_default()).await?;
        }
    }
    Ok(())
}

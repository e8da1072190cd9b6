//! Lambda functions (`AWS::Lambda::Function`), made by the `lambdas` step through the SDK.
//! Healthy when `Active`. Deleting one removes its event-source mappings first; its
//! permissions go with it.

use async_trait::async_trait;
use aws_sdk_lambda::operation::get_function::{GetFunctionError, GetFunctionOutput};
use deploy_state::{Resource, ResourceKind};

use super::mapping::delete_mappings_of;
use super::{Arn, Cx, Gone, Health, Kind, Tags, gone, sdk};
use crate::aws::{AwsClients, sdk_error};
use crate::engine::StepError;

pub struct Function;

#[async_trait]
impl Kind for Function {
    fn aws_type(&self) -> &'static str {
        "AWS::Lambda::Function"
    }

    fn after(&self) -> &'static [ResourceKind] {
        &[
            ResourceKind::EventSourceMapping,
            ResourceKind::Permission,
            ResourceKind::Target,
        ]
    }

    async fn look_up(&self, cx: &Cx<'_>, r: &Resource) -> Health {
        let found = get(cx.aws, &r.name).await;
        Health::from_result(r, sdk(found), |o| {
            let c = o.configuration();
            let state = c
                .and_then(|c| c.state())
                .map(|s| s.as_str())
                .unwrap_or_default();
            let update = c
                .and_then(|c| c.last_update_status())
                .map(|s| s.as_str())
                .unwrap_or_default();
            (
                state == "Active",
                format!("state {state}, last update {update}"),
            )
        })
    }

    async fn tags(&self, cx: &Cx<'_>, r: &Resource) -> Option<Tags> {
        let found = get(cx.aws, &r.name).await;
        Some(
            found
                .ok()?
                .tags()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect(),
        )
    }

    fn checks_tags(&self) -> bool {
        true
    }

    /// Tags it by its ARN (idempotent).
    async fn tag(&self, aws: &AwsClients, r: &Resource, tags: &Tags) -> Result<(), StepError> {
        let arn = r.arn.as_deref().unwrap_or(&r.name);
        aws.lambda
            .tag_resource()
            .resource(arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("TagResource {arn}"), e))?;
        Ok(())
    }

    /// `function:<name>` (a qualified ARN names its function).
    fn recognise(&self, arn: Arn<'_>) -> Option<Resource> {
        let name = arn.resource.strip_prefix("function:")?.split(':').next()?;
        (arn.service == "lambda")
            .then(|| Resource::new(ResourceKind::Function, name, "discovery").with_arn(arn.whole))
    }

    async fn delete(&self, aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
        delete_mappings_of(aws, &r.name).await?;
        gone(
            "lambda:DeleteFunction",
            aws.lambda
                .delete_function()
                .function_name(&r.name)
                .send()
                .await,
        )
    }
}

async fn get(
    aws: &AwsClients,
    name: &str,
) -> Result<GetFunctionOutput, crate::aws::AwsError<GetFunctionError>> {
    aws.lambda.get_function().function_name(name).send().await
}

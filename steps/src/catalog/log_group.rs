//! CloudWatch Logs log groups (`AWS::Logs::LogGroup`): a function's `/aws/lambda/<name>`, made
//! tagged by the `lambdas` step before the function first writes to it. Goes after its function
//! (which would write to it again).

use async_trait::async_trait;
use deploy_state::{Resource, ResourceKind};

use super::{Arn, Cx, Gone, Health, Kind, Tags, gone, sdk};
use crate::aws::{AwsClients, error_code, sdk_error};
use crate::engine::StepError;

pub struct LogGroup;

#[async_trait]
impl Kind for LogGroup {
    fn aws_type(&self) -> &'static str {
        "AWS::Logs::LogGroup"
    }

    fn after(&self) -> &'static [ResourceKind] {
        &[ResourceKind::Function]
    }

    async fn look_up(&self, cx: &Cx<'_>, r: &Resource) -> Health {
        let found = sdk(find_arn(cx.aws, &r.name).await);
        match found {
            Ok(Some(_)) => Health::present(r, "present"),
            Ok(None) => Health::from_result(r, Err::<(), _>(super::Miss::NotFound), |_| {
                (true, String::new())
            }),
            Err(miss) => Health::from_result(r, Err::<(), _>(miss), |_| (true, String::new())),
        }
    }

    /// `log-group:<name>:*`.
    fn recognise(&self, arn: Arn<'_>) -> Option<Resource> {
        let name = arn
            .resource
            .strip_prefix("log-group:")?
            .trim_end_matches(":*");
        (arn.service == "logs")
            .then(|| Resource::new(ResourceKind::LogGroup, name, "discovery").with_arn(arn.whole))
    }

    /// Tags it by its ARN, when it exists.
    async fn tag(&self, aws: &AwsClients, r: &Resource, tags: &Tags) -> Result<(), StepError> {
        let group = &r.name;
        let arn = find_arn(aws, group)
            .await
            .map_err(|e| sdk_error(&format!("DescribeLogGroups {group}"), e))?;
        if let Some(arn) = arn {
            aws.logs
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(tags.clone().into_iter().collect()))
                .send()
                .await
                .map_err(|e| sdk_error(&format!("TagResource {group}"), e))?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
        gone(
            "logs:DeleteLogGroup",
            aws.logs
                .delete_log_group()
                .log_group_name(&r.name)
                .send()
                .await,
        )
    }
}

/// The log group a function writes to.
pub fn function_log_group(function: &str) -> Resource {
    Resource::new(
        ResourceKind::LogGroup,
        &format!("/aws/lambda/{function}"),
        "",
    )
}

/// Makes the log group `r` with the ownership `tags`, or tags it when it exists.
pub async fn tagged_log_group(
    aws: &AwsClients,
    r: &Resource,
    tags: &Tags,
) -> Result<(), StepError> {
    let created = aws
        .logs
        .create_log_group()
        .log_group_name(&r.name)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await;
    match created {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("ResourceAlreadyExistsException") => {
            LogGroup.tag(aws, r, tags).await
        }
        Err(e) => Err(sdk_error(&format!("CreateLogGroup {}", r.name), e)),
    }
}

/// The ARN of the log group `name` (without the `:*` suffix), if it exists.
async fn find_arn(
    aws: &AwsClients,
    name: &str,
) -> Result<
    Option<String>,
    crate::aws::AwsError<
        aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsError,
    >,
> {
    let found = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await?;
    Ok(found
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .and_then(|g| g.arn())
        .map(|a| a.trim_end_matches(":*").to_string()))
}

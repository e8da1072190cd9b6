//! Lambda aliases (`AWS::Lambda::Alias`): a name for one published version of a function, the
//! ARN rule targets and mappings invoke (`...:function:<fn>:<alias>`). Identified by its name
//! and its function (`attributes.function`). Not taggable; it goes with its function, and after
//! what invokes it.

use async_trait::async_trait;
use deploy_state::{Resource, ResourceKind};

use super::{Cx, Gone, Health, Kind, gone, sdk};
use crate::aws::AwsClients;
use crate::engine::StepError;

pub struct Alias;

fn function(r: &Resource) -> &str {
    r.attributes.function.as_deref().unwrap_or_default()
}

#[async_trait]
impl Kind for Alias {
    fn aws_type(&self) -> &'static str {
        "AWS::Lambda::Alias"
    }

    fn after(&self) -> &'static [ResourceKind] {
        &[
            ResourceKind::Target,
            ResourceKind::EventSourceMapping,
            ResourceKind::Permission,
        ]
    }

    async fn look_up(&self, cx: &Cx<'_>, r: &Resource) -> Health {
        let found = cx
            .aws
            .lambda
            .get_alias()
            .function_name(function(r))
            .name(&r.name)
            .send()
            .await;
        Health::from_result(r, sdk(found), |o| {
            (
                true,
                format!("version {}", o.function_version().unwrap_or("?")),
            )
        })
    }

    async fn delete(&self, aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
        gone(
            "lambda:DeleteAlias",
            aws.lambda
                .delete_alias()
                .function_name(function(r))
                .name(&r.name)
                .send()
                .await,
        )
    }
}

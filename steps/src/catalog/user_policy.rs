//! The inline policy the `iam` step puts on the deploying IAM user (`AWS::IAM::UserPolicy`):
//! identified by its name and the user (`attributes.user`).

use async_trait::async_trait;
use deploy_state::Resource;

use super::{Cx, Gone, Health, Kind, gone, sdk};
use crate::aws::AwsClients;
use crate::engine::StepError;

pub struct UserPolicy;

fn user(r: &Resource) -> &str {
    r.attributes.user.as_deref().unwrap_or_default()
}

#[async_trait]
impl Kind for UserPolicy {
    fn aws_type(&self) -> &'static str {
        "AWS::IAM::UserPolicy"
    }

    async fn look_up(&self, cx: &Cx<'_>, r: &Resource) -> Health {
        let found = cx
            .aws
            .iam
            .get_user_policy()
            .user_name(user(r))
            .policy_name(&r.name)
            .send()
            .await;
        Health::from_result(r, sdk(found), |_| (true, "present".into()))
    }

    async fn delete(&self, aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
        gone(
            "iam:DeleteUserPolicy",
            aws.iam
                .delete_user_policy()
                .user_name(user(r))
                .policy_name(&r.name)
                .send()
                .await,
        )
    }
}

//! A statement in a function's resource policy letting a rule invoke it
//! (`AWS::Lambda::Permission`): identified by its statement id (the name), its function
//! (`attributes.function`) and the alias it is granted on (`attributes.qualifier`; none: the
//! unqualified function, as releases before aliases granted). Read from the one policy of the
//! function (or alias) per pass.

use async_trait::async_trait;
use deploy_state::Resource;

use super::{Cx, Gone, Health, Kind, gone};
use crate::aws::AwsClients;
use crate::engine::StepError;

pub struct Permission;

fn function(r: &Resource) -> &str {
    r.attributes.function.as_deref().unwrap_or_default()
}

#[async_trait]
impl Kind for Permission {
    fn aws_type(&self) -> &'static str {
        "AWS::Lambda::Permission"
    }

    async fn look_up(&self, cx: &Cx<'_>, r: &Resource) -> Health {
        let qualifier = r.attributes.qualifier.as_deref();
        let policy = cx.lookups.policy(cx.aws, function(r), qualifier).await;
        let quoted = format!("\"{}\"", r.name);
        Health::listed(r, policy.map(|p| p.contains(&quoted)), "granted")
    }

    async fn delete(&self, aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
        let qualifier = r.attributes.qualifier.as_deref();
        remove_permission(aws, function(r), qualifier, &r.name).await
    }
}

/// Removes the statement `sid` from the resource policy of `function` (of its alias
/// `qualifier`).
pub async fn remove_permission(
    aws: &AwsClients,
    function: &str,
    qualifier: Option<&str>,
    sid: &str,
) -> Result<Gone, StepError> {
    gone(
        &format!("lambda:RemovePermission {sid}"),
        aws.lambda
            .remove_permission()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .statement_id(sid)
            .send()
            .await,
    )
}

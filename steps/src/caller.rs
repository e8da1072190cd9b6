//! Who is deploying: the STS caller identity, and what kind of principal it is.

use crate::aws::{AwsClients, sdk_error};
use crate::engine::StepError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An IAM user (`arn:aws:iam::ACCOUNT:user/NAME`): the `iam` step may give it a policy.
    User {
        name: String,
    },
    /// An assumed role, which covers SSO sessions (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    AssumedRole {
        role: String,
    },
    Root,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub kind: PrincipalKind,
}

impl CallerIdentity {
    pub fn from_arn(account: &str, arn: &str) -> CallerIdentity {
        let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
        let kind = if resource == "root" {
            PrincipalKind::Root
        } else if let Some(rest) = resource.strip_prefix("user/") {
            // A user's path may precede its name: user/path/to/name.
            PrincipalKind::User {
                name: rest.rsplit('/').next().unwrap_or(rest).to_string(),
            }
        } else if let Some(rest) = resource.strip_prefix("assumed-role/") {
            PrincipalKind::AssumedRole {
                role: rest.split('/').next().unwrap_or(rest).to_string(),
            }
        } else {
            PrincipalKind::Other
        };
        CallerIdentity {
            account: account.to_string(),
            arn: arn.to_string(),
            kind,
        }
    }

    pub fn describe(&self) -> &'static str {
        match self.kind {
            PrincipalKind::User { .. } => "IAM user",
            PrincipalKind::AssumedRole { .. } => "assumed role (or SSO session)",
            PrincipalKind::Root => "account root",
            PrincipalKind::Other => "principal",
        }
    }
}

/// `sts:GetCallerIdentity`.
pub async fn identify(aws: &AwsClients) -> Result<CallerIdentity, StepError> {
    let out = aws
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| sdk_error("sts:GetCallerIdentity", e))?;
    let account = out.account().unwrap_or_default();
    let arn = out.arn().unwrap_or_default();
    Ok(CallerIdentity::from_arn(account, arn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_kinds_from_arns() {
        let u = CallerIdentity::from_arn("1", "arn:aws:iam::1:user/ops/alice");
        assert_eq!(
            u.kind,
            PrincipalKind::User {
                name: "alice".into()
            }
        );
        let r = CallerIdentity::from_arn(
            "1",
            "arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_x/bob",
        );
        assert_eq!(
            r.kind,
            PrincipalKind::AssumedRole {
                role: "AWSReservedSSO_Admin_x".into()
            }
        );
        assert_eq!(
            CallerIdentity::from_arn("0", "arn:aws:iam::0:root").kind,
            PrincipalKind::Root
        );
        assert_eq!(
            CallerIdentity::from_arn("0", "arn:aws:sts::0:federated-user/x").kind,
            PrincipalKind::Other
        );
    }
}

//! IAM roles (`AWS::IAM::Role`). Not in the Tagging API on AWS: found by listing the roles and
//! reading their tags (concurrently, every page). Its inline policies and attachments go with
//! it; it goes after the functions that run as it.

use async_trait::async_trait;
use deploy_state::{Resource, ResourceKind};
use tokio::task::JoinSet;

use super::applied::json_text;
use super::{
    Applied, Cx, Gone, Health, Kind, Tags, carries, gone, policy_document, same_json, sdk,
};
use crate::aws::{AwsClients, is_not_found, sdk_error};
use crate::engine::StepError;

pub struct Role;

/// How many role tag reads run at once.
const TAG_READS: usize = 16;

#[async_trait]
impl Kind for Role {
    fn aws_type(&self) -> &'static str {
        "AWS::IAM::Role"
    }

    fn terraform_type(&self) -> Option<&'static str> {
        Some("aws_iam_role")
    }

    fn after(&self) -> &'static [ResourceKind] {
        &[ResourceKind::Function]
    }

    async fn look_up(&self, cx: &Cx<'_>, r: &Resource) -> Health {
        let found = cx.aws.iam.get_role().role_name(&r.name).send().await;
        Health::from_result(r, sdk(found), |_| (true, "present".into()))
    }

    /// Each inline policy Terraform applied is present and equal (as JSON).
    async fn drift(
        &self,
        cx: &Cx<'_>,
        r: &Resource,
        applied: &Applied,
        _h: &Health,
    ) -> Vec<String> {
        let mut inline: Vec<(String, serde_json::Value)> = applied
            .all("aws_iam_role_policy")
            .filter(|p| p["role"] == r.name.as_str())
            .map(|p| {
                let name = p["name"].as_str().unwrap_or_default().to_string();
                (name, json_text(&p["policy"]))
            })
            .collect();
        inline.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Vec::new();
        for (policy, doc) in inline {
            let got = cx
                .aws
                .iam
                .get_role_policy()
                .role_name(&r.name)
                .policy_name(&policy)
                .send()
                .await;
            match got {
                Ok(o) if same_json(&policy_document(o.policy_document()), &doc) => {}
                Ok(_) => out.push(format!("inline policy {policy} of role {} differs", r.name)),
                Err(e) if is_not_found(&e) => {
                    out.push(format!(
                        "inline policy {policy} of role {} is missing",
                        r.name
                    ));
                }
                Err(_) => {}
            }
        }
        out
    }

    async fn tags(&self, cx: &Cx<'_>, r: &Resource) -> Option<Tags> {
        role_tags(cx.aws, &r.name).await
    }

    fn checks_tags(&self) -> bool {
        true
    }

    /// Every role of the account whose tags carry `tags`.
    async fn find(
        &self,
        aws: &AwsClients,
        tags: &Tags,
        _found: &[Resource],
    ) -> Result<Vec<Resource>, StepError> {
        let mut names = Vec::new();
        let mut pages = aws.iam.list_roles().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("iam:ListRoles", e))?;
            names.extend(
                page.roles()
                    .iter()
                    .map(|r| (r.role_name().to_string(), r.arn().to_string())),
            );
        }
        let mut out = Vec::new();
        for chunk in names.chunks(TAG_READS) {
            let mut set = JoinSet::new();
            for (name, arn) in chunk.iter().cloned() {
                let (aws, tags) = (aws.clone(), tags.clone());
                set.spawn(async move {
                    let found = role_tags(&aws, &name).await.unwrap_or_default();
                    carries(&found, &tags).then(|| {
                        Resource::new(ResourceKind::Role, &name, "discovery").with_arn(arn)
                    })
                });
            }
            out.extend(set.join_all().await.into_iter().flatten());
        }
        Ok(out)
    }

    /// Its inline policies and attached policies first, then the role.
    async fn delete(&self, aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
        let name = r.name.as_str();
        let inline = match aws.iam.list_role_policies().role_name(name).send().await {
            Ok(o) => o.policy_names().to_vec(),
            Err(e) if is_not_found(&e) => return Ok(Gone::AlreadyGone),
            Err(e) => return Err(sdk_error("iam:ListRolePolicies", e)),
        };
        for p in inline {
            let r = aws
                .iam
                .delete_role_policy()
                .role_name(name)
                .policy_name(&p)
                .send()
                .await;
            gone("iam:DeleteRolePolicy", r)?;
        }
        let attached = aws
            .iam
            .list_attached_role_policies()
            .role_name(name)
            .send()
            .await
            .map_err(|e| sdk_error("iam:ListAttachedRolePolicies", e))?;
        for p in attached.attached_policies() {
            let r = aws
                .iam
                .detach_role_policy()
                .role_name(name)
                .policy_arn(p.policy_arn().unwrap_or_default())
                .send()
                .await;
            gone("iam:DetachRolePolicy", r)?;
        }
        gone(
            "iam:DeleteRole",
            aws.iam.delete_role().role_name(name).send().await,
        )
    }
}

async fn role_tags(aws: &AwsClients, name: &str) -> Option<Tags> {
    let out = aws.iam.list_role_tags().role_name(name).send().await.ok()?;
    Some(super::tag_map(
        out.tags().iter().map(|t| (t.key(), t.value())),
    ))
}

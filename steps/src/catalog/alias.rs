//! Lambda aliases (`AWS::Lambda::Alias`): a name for one published version of a function, the
//! ARN rule targets and mappings invoke (`...:function:<fn>:<alias>`). Identified by its name
//! and its function (`attributes.function`); the version it should point at is
//! `attributes.version`. Drifted when it points elsewhere. Not taggable; it goes with its
//! function, and after what invokes it.

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

    /// Pointing at another version than the one deployed (a hand-made switch, or a rollback
    /// or deploy that did not finish), or its failed asynchronous invocations going elsewhere
    /// than the recorded on-failure destination (or nowhere: lost once Lambda gives up).
    async fn drift(
        &self,
        cx: &Cx<'_>,
        r: &Resource,
        _applied: &super::Applied,
        _h: &Health,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let (f, name) = (function(r), &r.name);
        if let Some(want) = r.attributes.version.as_deref() {
            let found = cx.aws.lambda.get_alias().function_name(f).name(name);
            match found.send().await.ok().and_then(|o| o.function_version) {
                Some(v) if v != want => out.push(format!(
                    "alias {name} of {f} points at version {v}, not the deployed version {want}"
                )),
                _ => {}
            }
        }
        if let Some(want) = r.attributes.destination.as_deref() {
            let config = cx
                .aws
                .lambda
                .get_function_event_invoke_config()
                .function_name(f)
                .qualifier(name)
                .send()
                .await;
            let found = match config {
                Ok(c) => c
                    .destination_config()
                    .and_then(|d| d.on_failure())
                    .and_then(|o| o.destination())
                    .map(str::to_string),
                Err(e) if crate::aws::is_not_found(&e) => None,
                Err(_) => return out,
            };
            if found.as_deref() != Some(want) {
                out.push(format!(
                    "{f}:{name}: failed asynchronous invocations go to {}, not {want}",
                    found.unwrap_or_else(|| "nowhere (no on-failure destination)".into())
                ));
            }
        }
        out
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

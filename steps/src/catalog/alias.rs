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
    /// than the recorded on-failure destination (or nowhere: lost once Lambda gives up), or
    /// retried more or less often, or for longer or shorter, than deployed.
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
        let Some(want) = r.attributes.destination.as_deref() else {
            return out;
        };
        let config = cx
            .aws
            .lambda
            .get_function_event_invoke_config()
            .function_name(f)
            .qualifier(name)
            .send()
            .await;
        let config = match config {
            Ok(c) => Some(c),
            Err(e) if crate::aws::is_not_found(&e) => None,
            Err(_) => return out,
        };
        let found = config
            .as_ref()
            .and_then(|c| c.destination_config())
            .and_then(|d| d.on_failure())
            .and_then(|o| o.destination())
            .map(str::to_string);
        if found.as_deref() != Some(want) {
            out.push(format!(
                "{f}:{name}: failed asynchronous invocations go to {}, not {want}",
                found.unwrap_or_else(|| "nowhere (no on-failure destination)".into())
            ));
        }
        let Some(c) = config else { return out };
        let retries = c.maximum_retry_attempts().map(|n| n as u32);
        if let Some(want) = r
            .attributes
            .async_retry_attempts
            .filter(|w| retries != Some(*w))
        {
            out.push(format!(
                "{f}:{name}: asynchronous retry attempts {}, not the deployed {want}",
                retries.map_or("unset".into(), |n| n.to_string())
            ));
        }
        let age = c.maximum_event_age_in_seconds().map(|n| n as u32);
        if let Some(want) = r
            .attributes
            .async_max_event_age_seconds
            .filter(|w| age != Some(*w))
        {
            out.push(format!(
                "{f}:{name}: asynchronous maximum event age {}s, not the deployed {want}s",
                age.map_or("unset".into(), |n| n.to_string())
            ));
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

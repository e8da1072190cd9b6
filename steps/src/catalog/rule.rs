//! Rules (`AWS::Events::Rule`): a route's rule, or a probe's temporary one. Identified by name
//! and bus (`attributes.bus`). Listed once per bus for all the checks of a pass. A rule goes
//! after its targets (AWS refuses to delete a rule that has any).

use async_trait::async_trait;
use deploy_state::{Resource, ResourceKind};

use super::applied::json_text;
use super::bus::events_tags;
use super::target::remove_all_targets;
use super::{Applied, Arn, Cx, Gone, Health, Kind, Tags, gone, same_json, state_in};
use crate::aws::AwsClients;
use crate::engine::StepError;

pub struct Rule {
    kind: ResourceKind,
}

impl Rule {
    pub const ROUTE: Rule = Rule {
        kind: ResourceKind::Rule,
    };
    pub const PROBE: Rule = Rule {
        kind: ResourceKind::ProbeRule,
    };
}

#[async_trait]
impl Kind for Rule {
    fn aws_type(&self) -> &'static str {
        "AWS::Events::Rule"
    }

    fn terraform_type(&self) -> Option<&'static str> {
        Some("aws_cloudwatch_event_rule")
    }

    fn after(&self) -> &'static [ResourceKind] {
        &[ResourceKind::Target]
    }

    async fn look_up(&self, cx: &Cx<'_>, r: &Resource) -> Health {
        let found = cx.lookups.rule(cx.aws, &r.name, r.bus()).await;
        Health::from_result(r, found, |o| state_in(&["ENABLED"], Some(&o.state)))
    }

    /// Enabled, and its event pattern (as JSON) the one applied.
    async fn drift(&self, cx: &Cx<'_>, r: &Resource, applied: &Applied, h: &Health) -> Vec<String> {
        let mut out = Vec::new();
        if h.detail != "state ENABLED" {
            out.push(format!(
                "rule {} is {}",
                r.name,
                h.detail.replace("state ", "")
            ));
        }
        if let Some(a) = applied.of(r)
            && let Ok(rule) = cx.lookups.rule(cx.aws, &r.name, r.bus()).await
        {
            let live = rule
                .pattern
                .and_then(|p| serde_json::from_str(&p).ok())
                .unwrap_or_default();
            if !same_json(&live, &json_text(&a["event_pattern"])) {
                out.push(format!("the event pattern of rule {} differs", r.name));
            }
        }
        out
    }

    /// Its state and event pattern.
    async fn describe(&self, cx: &Cx<'_>, r: &Resource) -> serde_json::Value {
        match cx.lookups.rule(cx.aws, &r.name, r.bus()).await {
            Ok(rule) => serde_json::json!({"state": rule.state, "pattern": rule.pattern}),
            Err(miss) => serde_json::json!({"missing": format!("{miss:?}")}),
        }
    }

    async fn tags(&self, cx: &Cx<'_>, r: &Resource) -> Option<Tags> {
        let arn = cx.lookups.rule(cx.aws, &r.name, r.bus()).await.ok()?.arn;
        events_tags(cx.aws, &arn).await
    }

    fn checks_tags(&self) -> bool {
        self.kind == ResourceKind::Rule
    }

    /// `rule/<bus>/<name>`, or `rule/<name>` on the default bus.
    fn recognise(&self, arn: Arn<'_>) -> Option<Resource> {
        if arn.service != "events" || self.kind != ResourceKind::Rule {
            return None;
        }
        let path = arn.resource.strip_prefix("rule/")?;
        let (bus, name) = path.rsplit_once('/').unwrap_or(("default", path));
        Some(
            Resource::new(ResourceKind::Rule, name, "discovery")
                .on_bus(bus)
                .with_arn(arn.whole),
        )
    }

    async fn import_id(&self, _aws: &AwsClients, r: &Resource) -> Result<String, StepError> {
        Ok(format!("{}/{}", r.bus(), r.name))
    }

    /// Its targets first (all pages), then the rule.
    async fn delete(&self, aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
        remove_all_targets(aws, &r.name, r.bus()).await?;
        gone(
            "events:DeleteRule",
            aws.events
                .delete_rule()
                .name(&r.name)
                .event_bus_name(r.bus())
                .send()
                .await,
        )
    }
}

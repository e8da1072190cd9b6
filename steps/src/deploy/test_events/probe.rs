//! The routing probe: a temporary queue and a temporary rule on the deployed bus matching a
//! unique marker. A probe event carrying the marker must arrive in the queue. The rule, its
//! target and the queue are always deleted afterwards, and leftovers of an interrupted or
//! killed run (found by this environment's probe name prefix) are deleted by the next run.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_eventbridge::types::Target;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};

use deploy_state::{Resource, ResourceKind};

use super::publish::Outgoing;
use super::witness::Witness;
use crate::aws::{AwsClients, error_code, sdk_error};
use crate::catalog;
use crate::engine::Poller;
use crate::engine::{Inventory, StepContext, StepError};

pub const PROBE_SOURCE: &str = "custom.deploy-probe";
pub const PROBE_DETAIL_TYPE: &str = "Deploy Probe";
const TARGET_ID: &str = "probe-queue";

/// Names of probe resources of `environment` start with this.
pub fn prefix(environment: &str) -> String {
    format!("{environment}-deploy-probe-")
}

#[derive(Debug, Clone)]
pub struct Probe {
    pub marker: String,
    /// The rule and the queue share this name.
    pub name: String,
    pub bus: String,
    queue_url: Option<String>,
    /// A pattern of its own (a probe on another bus), instead of the marker's.
    custom_pattern: Option<String>,
}

impl Probe {
    pub fn new(environment: &str, bus: &str) -> Self {
        let marker = uuid::Uuid::new_v4().simple().to_string();
        Probe {
            name: format!("{}{}", prefix(environment), &marker[..12]),
            marker,
            bus: bus.to_string(),
            queue_url: None,
            custom_pattern: None,
        }
    }

    /// A probe on `bus` that catches what `pattern` matches (a route's other bus).
    pub fn matching(environment: &str, bus: &str, pattern: String) -> Self {
        Probe {
            custom_pattern: Some(pattern),
            ..Probe::new(environment, bus)
        }
    }

    /// The ids of `ids` that reached the probe queue within `timeout`.
    pub async fn received(
        &self,
        aws: &AwsClients,
        ids: &std::collections::BTreeSet<String>,
        timeout: Duration,
    ) -> Result<std::collections::BTreeSet<String>, StepError> {
        match &self.queue_url {
            Some(url) => Witness::Queue { url }.watch(aws, ids, timeout).await,
            None => Ok(Default::default()),
        }
    }

    /// The probe queue's URL, once created.
    pub fn queue_url(&self) -> Option<&str> {
        self.queue_url.as_deref()
    }

    pub fn pattern(&self) -> String {
        if let Some(p) = &self.custom_pattern {
            return p.clone();
        }
        json!({
            "source": [PROBE_SOURCE],
            "detail-type": [PROBE_DETAIL_TYPE],
            "detail": {"marker": [self.marker]},
        })
        .to_string()
    }

    pub fn event(&self) -> Outgoing {
        Outgoing {
            label: format!("probe {}", self.marker),
            source: PROBE_SOURCE.into(),
            detail_type: PROBE_DETAIL_TYPE.into(),
            detail: json!({"marker": self.marker, "purpose": "deploy test-events routing probe"})
                .to_string(),
        }
    }

    /// Creates the rule, the queue (writable by that rule only) and the target.
    pub async fn setup(
        &mut self,
        ctx: &mut StepContext<'_>,
        aws: &AwsClients,
    ) -> Result<(), StepError> {
        let tags = crate::ownership::ownership_tags(ctx.config());
        let step = ctx.step_name().to_string();
        self.create(aws, tags, &step, ctx).await
    }

    /// Creates the pieces, each handed to `record` (the inventory) as soon as it exists.
    pub async fn create(
        &mut self,
        aws: &AwsClients,
        tags: BTreeMap<String, String>,
        created_by: &str,
        record: &mut dyn Inventory,
    ) -> Result<(), StepError> {
        let rule_arn = self.create_rule(aws, &tags).await?;
        // Recorded while it exists, so that a killed run's probe is known to be this
        // deployment's (the next run and `pre-destroy` remove it).
        let rule = Resource::new(ResourceKind::ProbeRule, &self.name, created_by)
            .with_arn(&rule_arn)
            .on_bus(&self.bus);
        record.record(rule).await?;
        let url = self.create_queue(aws, tags).await?;
        self.queue_url = Some(url.clone());
        let piece = Resource::new(ResourceKind::ProbeQueue, &self.name, created_by);
        record
            .record(piece.with(|a| a.url = Some(url.clone())))
            .await?;
        let queue_arn = self.queue_arn(aws, &url).await?;
        self.allow_rule_only(aws, &url, &queue_arn, &rule_arn)
            .await?;
        self.put_target(aws, queue_arn).await
    }

    /// Creates the rule matching the probe's pattern; returns its ARN.
    async fn create_rule(
        &self,
        aws: &AwsClients,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, StepError> {
        let rule = aws
            .events
            .put_rule()
            .name(&self.name)
            .event_bus_name(&self.bus)
            .event_pattern(self.pattern())
            .description("temporary: deploy probe")
            .set_tags(Some(
                tags.clone()
                    .into_iter()
                    .map(|(k, v)| {
                        aws_sdk_eventbridge::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                            .expect("key and value are set")
                    })
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("PutRule {}", self.name), e))?;
        Ok(rule.rule_arn.unwrap_or_default())
    }

    /// Creates the queue (messages kept five minutes); returns its URL.
    async fn create_queue(
        &self,
        aws: &AwsClients,
        tags: BTreeMap<String, String>,
    ) -> Result<String, StepError> {
        let queue = aws
            .sqs
            .create_queue()
            .queue_name(&self.name)
            .attributes(QueueAttributeName::MessageRetentionPeriod, "300")
            .set_tags(Some(tags.into_iter().collect()))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("CreateQueue {}", self.name), e))?;
        Ok(queue.queue_url.unwrap_or_default())
    }

    /// The ARN of the queue at `url`.
    async fn queue_arn(&self, aws: &AwsClients, url: &str) -> Result<String, StepError> {
        let attrs = aws
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("GetQueueAttributes {}", self.name), e))?;
        Ok(attrs
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn))
            .cloned()
            .unwrap_or_default())
    }

    /// Lets the probe rule, and only it, send to the queue.
    async fn allow_rule_only(
        &self,
        aws: &AwsClients,
        url: &str,
        queue_arn: &str,
        rule_arn: &str,
    ) -> Result<(), StepError> {
        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "ProbeRuleOnly",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }]
        });
        aws.sqs
            .set_queue_attributes()
            .queue_url(url)
            .attributes(QueueAttributeName::Policy, policy.to_string())
            .send()
            .await
            .map_err(|e| sdk_error(&format!("SetQueueAttributes {}", self.name), e))?;
        Ok(())
    }

    /// Makes the queue the rule's target.
    async fn put_target(&self, aws: &AwsClients, queue_arn: String) -> Result<(), StepError> {
        let target = Target::builder()
            .id(TARGET_ID)
            .arn(queue_arn)
            .build()
            .map_err(|e| StepError::permanent(format!("probe target: {e}")))?;
        let out = aws
            .events
            .put_targets()
            .rule(&self.name)
            .event_bus_name(&self.bus)
            .targets(target)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("PutTargets {}", self.name), e))?;
        if out.failed_entry_count() > 0 {
            return Err(StepError::transient(format!(
                "PutTargets {} failed: {:?}",
                self.name,
                out.failed_entries().first().and_then(|f| f.error_message())
            )));
        }
        Ok(())
    }

    /// Polls the probe queue until the event `event_id` arrives or `timeout` passes.
    pub async fn await_delivery(
        &self,
        aws: &AwsClients,
        event_id: &str,
        timeout: Duration,
    ) -> Result<Duration, String> {
        let Some(url) = &self.queue_url else {
            return Err("the probe queue was not created".into());
        };
        let start = Instant::now();
        let mut poll = Poller::new(timeout);
        let ours = |b: &Value| b["detail"]["marker"] == self.marker.as_str() && b["id"] == event_id;
        loop {
            let taken = crate::aws::take_messages(&aws.sqs, url, ours)
                .await
                .map_err(|e| sdk_error("ReceiveMessage from the probe queue", e));
            match poll.tolerate(taken).map_err(|e| e.message)? {
                Some(taken) if !taken.is_empty() => return Ok(start.elapsed()),
                _ => {}
            }
            if !poll.wait().await {
                poll.finish(()).map_err(|e| e.message)?;
                return Err(format!(
                    "the probe event {event_id} did not reach queue {} within {:.0}s",
                    self.name,
                    timeout.as_secs_f64()
                ));
            }
        }
    }
}

/// The two pieces of the probe `name` on `bus`, as the inventory records them.
pub fn pieces(bus: &str, name: &str) -> [Resource; 2] {
    [
        Resource::new(ResourceKind::ProbeRule, name, "").on_bus(bus),
        Resource::new(ResourceKind::ProbeQueue, name, ""),
    ]
}

/// Deletes the probe rule named `name` (its targets first) and the queue of the same name.
/// Absent pieces are fine.
pub async fn delete(aws: &AwsClients, bus: &str, name: &str) -> Result<(), StepError> {
    for piece in pieces(bus, name) {
        catalog::delete(aws, &piece).await?;
    }
    Ok(())
}

/// Deletes the probe `name` and forgets it in the inventory.
pub async fn remove(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    bus: &str,
    name: &str,
) -> Result<(), StepError> {
    delete(aws, bus, name).await?;
    for piece in pieces(bus, name) {
        ctx.forget(piece.kind, name).await?;
    }
    Ok(())
}

/// Probes of `environment` that still exist: those in the inventory, and any other rule or
/// queue with this environment's probe prefix (a run killed between creating a piece and
/// recording it).
pub async fn leftovers(
    ctx: &StepContext<'_>,
    aws: &AwsClients,
    bus: &str,
    environment: &str,
) -> Result<Vec<String>, StepError> {
    let prefix = prefix(environment);
    let mut names: Vec<String> = [ResourceKind::ProbeRule, ResourceKind::ProbeQueue]
        .into_iter()
        .flat_map(|k| ctx.state().resources(k))
        .map(|r| r.name.clone())
        .collect();
    let rules = aws
        .events
        .list_rules()
        .event_bus_name(bus)
        .name_prefix(&prefix)
        .send()
        .await;
    match rules {
        Ok(out) => names.extend(
            out.rules()
                .iter()
                .filter_map(|r| r.name().map(str::to_string)),
        ),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {}
        Err(e) => return Err(sdk_error("ListRules", e)),
    }
    let queues = aws
        .sqs
        .list_queues()
        .queue_name_prefix(&prefix)
        .send()
        .await
        .map_err(|e| sdk_error("ListQueues", e))?;
    for url in queues.queue_urls() {
        if let Some(name) = url.rsplit('/').next().filter(|n| n.starts_with(&prefix)) {
            names.push(name.to_string());
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// Deletes every probe leftover of `environment`; returns the names removed.
pub async fn remove_leftovers(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    bus: &str,
    environment: &str,
) -> Result<Vec<String>, StepError> {
    let names = leftovers(ctx, aws, bus, environment).await?;
    for name in &names {
        remove(ctx, aws, bus, name).await?;
    }
    Ok(names)
}

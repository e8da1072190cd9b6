//! SQS queues (`AWS::SQS::Queue`): the dead-letter queue, a route's consumer queue, a probe's
//! temporary queue. The dead-letter queue is healthy only while it is empty: a message in it is
//! an event lost on its way somewhere; a consumer's inbox holds work. A queue goes after the
//! targets and mappings that use it.

use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use deploy_state::{Resource, ResourceKind};

use super::{Applied, Arn, Cx, Gone, Health, Kind, Tags, gone, sdk};
use crate::aws::{AwsClients, is_not_found, sdk_error};
use crate::engine::StepError;

pub struct Queue {
    kind: ResourceKind,
}

impl Queue {
    pub const DEAD_LETTER: Queue = Queue {
        kind: ResourceKind::Queue,
    };
    pub const CONSUMER: Queue = Queue {
        kind: ResourceKind::ConsumerQueue,
    };
    pub const PROBE: Queue = Queue {
        kind: ResourceKind::ProbeQueue,
    };
}

#[async_trait]
impl Kind for Queue {
    fn aws_type(&self) -> &'static str {
        "AWS::SQS::Queue"
    }

    fn terraform_type(&self) -> Option<&'static str> {
        Some("aws_sqs_queue")
    }

    fn after(&self) -> &'static [ResourceKind] {
        &[ResourceKind::Target, ResourceKind::EventSourceMapping]
    }

    async fn look_up(&self, cx: &Cx<'_>, r: &Resource) -> Health {
        let url = match cx.aws.sqs.get_queue_url().queue_name(&r.name).send().await {
            Ok(o) => o.queue_url().unwrap_or_default().to_string(),
            Err(e) => {
                return Health::from_result(r, sdk(Err::<(), _>(e)), |_| (true, String::new()));
            }
        };
        let res = cx
            .aws
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await;
        // Visible, and in flight: a consumer that keeps failing a message (the dead-letter
        // processor leaves Lambda's on-failure records in the queue) holds it in flight.
        let (mut depth, mut in_flight) = (None, 0);
        let mut h = Health::from_result(r, sdk(res), |o| {
            depth = attribute(
                o.attributes(),
                QueueAttributeName::ApproximateNumberOfMessages,
            );
            in_flight = attribute(
                o.attributes(),
                QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            )
            .unwrap_or(0);
            (true, String::new())
        });
        if h.exists != Some(true) {
            return h;
        }
        let Some(n) = depth.map(|d| d + in_flight) else {
            h.healthy = false;
            h.detail = "depth unknown".into();
            return h;
        };
        h.depth = Some(n);
        if n == 0 || self.kind != ResourceKind::Queue {
            h.detail = format!("{n} messages waiting");
            return h;
        }
        h.oldest_age_seconds = oldest_age(cx.aws, &url).await;
        h.healthy = false;
        let flight = if in_flight > 0 {
            format!(" ({in_flight} in flight)")
        } else {
            String::new()
        };
        h.detail = format!(
            "{n} message(s) waiting{flight}{}: events are being lost",
            h.oldest_age_seconds
                .map(|a| format!(", the oldest {a}s old"))
                .unwrap_or_default()
        );
        h
    }

    /// Whether it exists, and its settings: not how many messages it holds or how old they are
    /// (which change as messages flow, while nobody changed the queue).
    async fn describe(&self, cx: &Cx<'_>, r: &Resource) -> serde_json::Value {
        let url = match cx.aws.sqs.get_queue_url().queue_name(&r.name).send().await {
            Ok(o) => o.queue_url().unwrap_or_default().to_string(),
            Err(e) => return serde_json::json!({"missing": format!("{:?}", sdk::<(), _>(Err(e)))}),
        };
        let got = cx
            .aws
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await;
        match sdk(got) {
            Ok(o) => {
                let settings: std::collections::BTreeMap<&str, &str> = o
                    .attributes()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| is_setting(k))
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                serde_json::json!({"url": url, "settings": settings})
            }
            Err(miss) => serde_json::json!({"missing": format!("{miss:?}")}),
        }
    }

    /// Keeps messages as long as applied.
    async fn drift(
        &self,
        cx: &Cx<'_>,
        r: &Resource,
        applied: &Applied,
        _h: &Health,
    ) -> Vec<String> {
        let Some(want) = applied
            .of(r)
            .and_then(|a| a["message_retention_seconds"].as_i64())
        else {
            return Vec::new();
        };
        match retention(cx.aws, &r.name).await {
            Some(got) if got != want => vec![format!(
                "queue {} keeps messages {got}s instead of {want}s",
                r.name
            )],
            _ => Vec::new(),
        }
    }

    async fn tags(&self, cx: &Cx<'_>, r: &Resource) -> Option<Tags> {
        let url = queue_url(cx.aws, &r.name).await.ok()??;
        let out = cx
            .aws
            .sqs
            .list_queue_tags()
            .queue_url(url)
            .send()
            .await
            .ok()?;
        Some(
            out.tags()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect(),
        )
    }

    fn checks_tags(&self) -> bool {
        self.kind != ResourceKind::ProbeQueue
    }

    /// Any queue of the account is a queue to the Tagging API (which one it is, the inventory
    /// knows).
    fn recognise(&self, arn: Arn<'_>) -> Option<Resource> {
        (arn.service == "sqs" && self.kind == ResourceKind::Queue).then(|| {
            Resource::new(ResourceKind::Queue, arn.resource, "discovery").with_arn(arn.whole)
        })
    }

    /// Terraform imports a queue by its URL.
    async fn import_id(&self, aws: &AwsClients, r: &Resource) -> Result<String, StepError> {
        Ok(queue_url(aws, &r.name).await?.unwrap_or_default())
    }

    async fn delete(&self, aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
        let Some(url) = queue_url(aws, &r.name).await? else {
            return Ok(Gone::AlreadyGone);
        };
        gone(
            "sqs:DeleteQueue",
            aws.sqs.delete_queue().queue_url(url).send().await,
        )
    }
}

/// The URL of the queue `name`; `None` when there is no such queue.
pub async fn queue_url(aws: &AwsClients, name: &str) -> Result<Option<String>, StepError> {
    match aws.sqs.get_queue_url().queue_name(name).send().await {
        Ok(o) => Ok(Some(o.queue_url().unwrap_or_default().to_string())),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(sdk_error("sqs:GetQueueUrl", e)),
    }
}

fn attribute(
    attrs: Option<&std::collections::HashMap<QueueAttributeName, String>>,
    name: QueueAttributeName,
) -> Option<u64> {
    attrs?.get(&name)?.parse().ok()
}

async fn retention(aws: &AwsClients, name: &str) -> Option<i64> {
    let url = queue_url(aws, name).await.ok()??;
    let attrs = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::MessageRetentionPeriod)
        .send()
        .await
        .ok()?;
    attrs
        .attributes()?
        .get(&QueueAttributeName::MessageRetentionPeriod)?
        .parse()
        .ok()
}

/// The age of the oldest of the first messages, peeked without taking them (a visibility
/// timeout of 0 leaves them where they are).
async fn oldest_age(aws: &AwsClients, url: &str) -> Option<u64> {
    let peek = aws
        .sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
        .send()
        .await
        .ok()?;
    let now_ms = jiff::Timestamp::now().as_millisecond();
    peek.messages()
        .iter()
        .filter_map(|m| {
            m.attributes()?
                .get(&MessageSystemAttributeName::SentTimestamp)?
                .parse::<i64>()
                .ok()
        })
        .min()
        .map(|sent| u64::try_from((now_ms - sent).max(0) / 1000).unwrap_or(0))
}

/// Whether an attribute is one of the queue's settings, not a count of what it holds or the
/// time its settings last changed.
fn is_setting(name: &QueueAttributeName) -> bool {
    !name.as_str().starts_with("Approximate") && *name != QueueAttributeName::LastModifiedTimestamp
}

/// How many messages a queue holds: waiting, and received but not yet deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Depth {
    pub visible: u64,
    pub in_flight: u64,
}

impl Depth {
    pub fn total(self) -> u64 {
        self.visible + self.in_flight
    }
}

impl std::fmt::Display for Depth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} message(s): {} visible, {} in flight",
            self.total(),
            self.visible,
            self.in_flight
        )
    }
}

/// The depth of the queue `name`; `None` when there is no such queue.
pub async fn depth(aws: &AwsClients, name: &str) -> Result<Option<Depth>, StepError> {
    let Some(url) = queue_url(aws, name).await? else {
        return Ok(None);
    };
    depth_at(aws, &url).await
}

/// The depth of the queue at `url`; `None` when there is no such queue.
pub async fn depth_at(aws: &AwsClients, url: &str) -> Result<Option<Depth>, StepError> {
    let attrs = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await;
    let attrs = match attrs {
        Ok(a) => a,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(sdk_error("sqs:GetQueueAttributes", e)),
    };
    let read = |n| attribute(attrs.attributes(), n).unwrap_or(0);
    Ok(Some(Depth {
        visible: read(QueueAttributeName::ApproximateNumberOfMessages),
        in_flight: read(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_queue_holds_is_not_one_of_its_settings() {
        use QueueAttributeName as A;
        for held in [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
            A::ApproximateNumberOfMessagesDelayed,
            A::LastModifiedTimestamp,
        ] {
            assert!(!is_setting(&held), "{held:?}");
        }
        for setting in [
            A::MessageRetentionPeriod,
            A::Policy,
            A::QueueArn,
            A::CreatedTimestamp,
        ] {
            assert!(is_setting(&setting), "{setting:?}");
        }
    }
}

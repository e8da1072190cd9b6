//! What a deployment looks like in AWS, resource by resource (`kind name` → what it is), read
//! through the SDK: two snapshots compared say exactly which resources a command changed.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_eventbridge::Client as Events;
use aws_sdk_sqs::types::QueueAttributeName;

use crate::support::TestContext;

pub type Snapshot = BTreeMap<String, String>;

/// Every resource of `ctx`'s deployment: the bus, its rules (pattern, state, description) and
/// their targets, archives, queues (attributes, not their depth), roles (id and inline
/// policies), functions (code and configuration, not when they were last touched).
pub async fn snapshot(ctx: &TestContext) -> Snapshot {
    let sdk = ctx.sdk().await;
    let env = &format!("{}-", ctx.environment);
    let mut out = Snapshot::new();
    rules(&Events::new(&sdk), env, &mut out).await;
    queues(&aws_sdk_sqs::Client::new(&sdk), env, &mut out).await;
    roles(&aws_sdk_iam::Client::new(&sdk), env, &mut out).await;
    functions(&aws_sdk_lambda::Client::new(&sdk), env, &mut out).await;
    out
}

/// The resources that differ between `before` and `after` (changed, made or gone).
pub fn changed(before: &Snapshot, after: &Snapshot) -> BTreeSet<String> {
    before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect()
}

async fn rules(events: &Events, env: &str, out: &mut Snapshot) {
    let bus = format!("{env}application-events");
    let b = events.describe_event_bus().name(&bus).send().await.unwrap();
    out.insert(format!("bus {bus}"), format!("{:?}", b.arn()));
    let listed = events
        .list_rules()
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap();
    for r in listed.rules() {
        let name = r.name().unwrap();
        let pattern: Option<serde_json::Value> =
            r.event_pattern().map(|p| serde_json::from_str(p).unwrap());
        let what = format!("{pattern:?} {:?} {:?}", r.state(), r.description());
        out.insert(format!("rule {name}"), what);
        let targets = events
            .list_targets_by_rule()
            .rule(name)
            .event_bus_name(&bus);
        for t in targets.send().await.unwrap().targets() {
            out.insert(format!("target {name}/{}", t.id()), format!("{t:?}"));
        }
    }
    for a in events.list_archives().send().await.unwrap().archives() {
        let name = a.archive_name().unwrap_or_default();
        if name.starts_with(env) {
            let what = format!("{:?} {:?}", a.retention_days(), a.event_source_arn());
            out.insert(format!("archive {name}"), what);
        }
    }
}

async fn queues(sqs: &aws_sdk_sqs::Client, env: &str, out: &mut Snapshot) {
    let listed = sqs
        .list_queues()
        .queue_name_prefix(env)
        .send()
        .await
        .unwrap();
    for url in listed.queue_urls() {
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .unwrap();
        let kept: BTreeMap<String, String> = attrs
            .attributes()
            .into_iter()
            .flatten()
            .filter(|(k, _)| !k.as_str().starts_with("Approximate"))
            .filter(|(k, _)| *k != &QueueAttributeName::LastModifiedTimestamp)
            .map(|(k, v)| (k.as_str().to_string(), v.clone()))
            .collect();
        out.insert(format!("queue {url}"), format!("{kept:?}"));
    }
}

async fn roles(iam: &aws_sdk_iam::Client, env: &str, out: &mut Snapshot) {
    for role in iam.list_roles().send().await.unwrap().roles() {
        let name = role.role_name();
        if !name.starts_with(env) {
            continue;
        }
        let mut what = format!(
            "{} {:?}",
            role.role_id(),
            role.assume_role_policy_document()
        );
        let policies = iam
            .list_role_policies()
            .role_name(name)
            .send()
            .await
            .unwrap();
        for p in policies.policy_names() {
            let doc = iam.get_role_policy().role_name(name).policy_name(p);
            what.push_str(&format!(
                " {p}={}",
                doc.send().await.unwrap().policy_document()
            ));
        }
        out.insert(format!("role {name}"), what);
    }
}

async fn functions(lambda: &aws_sdk_lambda::Client, env: &str, out: &mut Snapshot) {
    for f in lambda.list_functions().send().await.unwrap().functions() {
        let name = f.function_name().unwrap_or_default();
        if !name.starts_with(env) {
            continue;
        }
        let what = format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            f.function_arn(),
            f.code_sha256(),
            f.handler(),
            f.role(),
            f.memory_size(),
            f.timeout(),
            f.environment()
                .and_then(|e| e.variables())
                .map(|v| v.iter().collect::<BTreeMap<_, _>>()),
        );
        out.insert(format!("function {name}"), what);
        let policy = lambda.get_policy().function_name(name).send().await;
        let policy = policy.ok().and_then(|p| p.policy().map(str::to_string));
        out.insert(format!("permissions {name}"), format!("{policy:?}"));
    }
}

/// The rule `name`'s event pattern (as JSON) on `ctx`'s bus.
pub async fn pattern(ctx: &TestContext, name: &str) -> serde_json::Value {
    let events = Events::new(&ctx.sdk().await);
    let bus = format!("{}-application-events", ctx.environment);
    let r = events.describe_rule().name(name).event_bus_name(&bus);
    let r = r.send().await.unwrap();
    serde_json::from_str(r.event_pattern().unwrap()).unwrap()
}

/// Puts the rule `name` with `pattern`, as someone with console access would (its description
/// and state kept; made when there is none).
pub async fn put_pattern(ctx: &TestContext, name: &str, pattern: &serde_json::Value) {
    put_rule(ctx, name, Some(pattern), None).await;
}

/// Puts the rule `name` with another description (its pattern and state kept).
pub async fn put_description(ctx: &TestContext, name: &str, description: &str) {
    put_rule(ctx, name, None, Some(description)).await;
}

async fn put_rule(
    ctx: &TestContext,
    name: &str,
    pattern: Option<&serde_json::Value>,
    description: Option<&str>,
) {
    let events = Events::new(&ctx.sdk().await);
    let bus = format!("{}-application-events", ctx.environment);
    let r = events.describe_rule().name(name).event_bus_name(&bus);
    let r = r.send().await.ok();
    let old = |f: fn(
        &aws_sdk_eventbridge::operation::describe_rule::DescribeRuleOutput,
    ) -> Option<&str>| { r.as_ref().and_then(f).map(str::to_string) };
    events
        .put_rule()
        .name(name)
        .event_bus_name(&bus)
        .set_event_pattern(
            pattern
                .map(|p| p.to_string())
                .or_else(|| old(|r| r.event_pattern())),
        )
        .set_description(
            description
                .map(str::to_string)
                .or_else(|| old(|r| r.description())),
        )
        .set_state(r.as_ref().and_then(|r| r.state().cloned()))
        .send()
        .await
        .unwrap();
}

/// The rule `name`'s description.
pub async fn description(ctx: &TestContext, name: &str) -> Option<String> {
    let events = Events::new(&ctx.sdk().await);
    let bus = format!("{}-application-events", ctx.environment);
    let r = events.describe_rule().name(name).event_bus_name(&bus);
    r.send().await.unwrap().description().map(str::to_string)
}

/// Deletes the rule `name` (no targets) from `ctx`'s bus.
pub async fn delete_rule(ctx: &TestContext, name: &str) {
    let events = Events::new(&ctx.sdk().await);
    let bus = format!("{}-application-events", ctx.environment);
    let deleted = events.delete_rule().name(name).event_bus_name(&bus);
    deleted.send().await.unwrap();
}

/// The dead-letter queue's URL.
pub async fn dlq(ctx: &TestContext) -> (aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk().await);
    let name = format!("{}-eventbridge-dlq", ctx.environment);
    let url = sqs.get_queue_url().queue_name(name).send().await.unwrap();
    (sqs.clone(), url.queue_url().unwrap().to_string())
}

/// How long the dead-letter queue keeps messages (seconds).
pub async fn dlq_retention(ctx: &TestContext) -> String {
    let (sqs, url) = dlq(ctx).await;
    let attrs = sqs.get_queue_attributes().queue_url(url);
    let attrs = attrs.attribute_names(QueueAttributeName::MessageRetentionPeriod);
    let got = attrs.send().await.unwrap();
    got.attributes().unwrap()[&QueueAttributeName::MessageRetentionPeriod].clone()
}

/// Enables or disables the dead-letter processor's mapping (which reads the dead-letter queue).
pub async fn dlq_processor(ctx: &TestContext, enabled: bool) {
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk().await);
    let function = format!("{}-dead-letter-processor", ctx.environment);
    let listed = lambda.list_event_source_mappings().function_name(function);
    for m in listed.send().await.unwrap().event_source_mappings() {
        let update = lambda.update_event_source_mapping().uuid(m.uuid().unwrap());
        update.enabled(enabled).send().await.unwrap();
    }
}

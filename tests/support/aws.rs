//! Looking at the emulator through the SDK, as a user would after a command.

use super::TestContext;

/// Names of everything in the emulator that could belong to `env`, through the SDK.
pub async fn leftovers(ctx: &TestContext) -> Vec<String> {
    let sdk = ctx.sdk().await;
    let env = &ctx.environment;
    let mut found = Vec::new();
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    for b in events
        .list_event_buses()
        .send()
        .await
        .unwrap()
        .event_buses()
    {
        if b.name().unwrap_or("").starts_with(env.as_str()) {
            found.push(format!("bus {}", b.name().unwrap()));
        }
    }
    let bus = format!("{env}-application-events");
    if let Ok(rules) = events.list_rules().event_bus_name(&bus).send().await {
        for r in rules.rules() {
            found.push(format!("rule {}", r.name().unwrap_or("")));
        }
    }
    if let Ok(archives) = events.list_archives().send().await {
        for a in archives.archives() {
            if a.archive_name().unwrap_or("").starts_with(env.as_str()) {
                found.push(format!("archive {}", a.archive_name().unwrap()));
            }
        }
    }
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queues = sqs
        .list_queues()
        .queue_name_prefix(env.as_str())
        .send()
        .await
        .unwrap();
    for q in queues.queue_urls() {
        found.push(format!("queue {q}"));
    }
    let iam = aws_sdk_iam::Client::new(&sdk);
    for r in iam.list_roles().send().await.unwrap().roles() {
        if r.role_name().starts_with(env.as_str()) {
            found.push(format!("role {}", r.role_name()));
        }
    }
    for u in iam.list_users().send().await.unwrap().users() {
        let policies = iam
            .list_user_policies()
            .user_name(u.user_name())
            .send()
            .await
            .unwrap();
        for p in policies.policy_names() {
            if p.contains(env.as_str()) {
                found.push(format!("user-policy {p}"));
            }
        }
    }
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    for f in lambda.list_functions().send().await.unwrap().functions() {
        if f.function_name().unwrap_or("").starts_with(env.as_str()) {
            found.push(format!("function {}", f.function_name().unwrap()));
        }
    }
    found.sort();
    found
}

/// What identifies the deployment's resources beyond their names: role ids (new on every
/// create), the queue's ARN and creation time, the functions' code hashes. Equal before and after
/// a run means nothing was replaced.
pub async fn fingerprint(ctx: &TestContext) -> Vec<String> {
    let sdk = ctx.sdk().await;
    let env = &ctx.environment;
    let mut out = Vec::new();
    let iam = aws_sdk_iam::Client::new(&sdk);
    for role in [
        "event-publisher-role",
        "event-processor-role",
        "eventbridge-dlq-role",
    ] {
        let r = iam
            .get_role()
            .role_name(format!("{env}-{role}"))
            .send()
            .await
            .unwrap();
        out.push(format!("role {}", r.role().unwrap().role_id()));
    }
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs
        .get_queue_url()
        .queue_name(format!("{env}-eventbridge-dlq"))
        .send()
        .await
        .unwrap();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url.queue_url().unwrap())
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let a = attrs.attributes().unwrap();
    out.push(format!(
        "queue {:?} {:?}",
        a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn),
        a.get(&aws_sdk_sqs::types::QueueAttributeName::CreatedTimestamp)
    ));
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    for f in ["event-logger", "dead-letter-processor"] {
        let c = lambda
            .get_function()
            .function_name(format!("{env}-{f}"))
            .send()
            .await
            .unwrap();
        let c = c.configuration().unwrap();
        out.push(format!(
            "function {:?} {:?} {:?}",
            c.function_arn(),
            c.code_sha256(),
            c.last_modified()
        ));
    }
    out
}

/// Creates a function of nobody's (no tags) running a handler that does nothing, and the role
/// it runs as (`role`, no tags either): foreign resources for a test to leave alone.
pub async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    iam: &aws_sdk_iam::Client,
    name: &str,
    role: &str,
) {
    let role = iam
        .create_role()
        .role_name(role)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        w.start_file("index.mjs", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut w, b"export const handler = async () => ({});\n").unwrap();
        w.finish().unwrap();
    }
    lambda
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Nodejs20x)
        .handler("index.handler")
        .role(role.role().unwrap().arn())
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(buf.into_inner()))
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// The names of the rules on the deployment's application bus.
pub async fn rule_names(ctx: &TestContext) -> Vec<String> {
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk().await);
    let bus = format!("{}-application-events", ctx.environment);
    let out = events
        .list_rules()
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap();
    out.rules()
        .iter()
        .filter_map(|r| r.name().map(str::to_string))
        .collect()
}

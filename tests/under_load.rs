//! Changing a live hub under load, against ministack with real terraform: while a publisher sends
//! 8 events a second (each with a unique marker, every accepted id recorded), `deploy all
//! --auto-approve` applies one change; then every accepted event is looked for at every consumer
//! its routes deliver it to (before the change, after it, or — published while it ran — both),
//! and in the dead-letter queue. Each change must exit 0, leave `status --live` healthy and lose
//! nothing; duplicates (both paths deliver during a change) are counted and printed.
//!
//! One stack is shared by the tests (see `under_load/stack.rs`); each takes it alone, changes
//! routes of its own, and leaves its change deployed.
//! `UNDER_LOAD_REPORT=<file>` appends one table row per test to that file (`scripts/bench-change`
//! uses it).
//!
//! What ministack cannot show: a rule or target change takes effect at once there (on AWS "after
//! a short period", and a removed target may go on receiving for a while), and an
//! EventBridge-to-Lambda delivery runs the handler directly, with no asynchronous retry and no
//! dead-letter path — so a delivery that fails there is dropped, not dead-lettered, and the
//! dead-letter count is 0 unless a test's own events were written there. These tests therefore
//! prove the order of the change (nothing removed before its replacement delivers) and count
//! every event; they cannot show the propagation delays of AWS.

#[path = "under_load/scenario.rs"]
mod scenario;
#[path = "under_load/stack.rs"]
mod stack;
mod support;
#[path = "under_load/traffic.rs"]
mod traffic;

use scenario::{LOGGER, Route, Scenario};
use stack::{EVENT, FILTERED, STACK, kinds, queue};
use traffic::Kind;

const fn event(kind: &'static str) -> Kind {
    Kind {
        detail_type: EVENT,
        kind,
    }
}

/// Events of the `logged` route: to the event-logger through a route no test changes.
const LOGGED: Route = Route {
    kind: event("log"),
    before: &[LOGGER],
    after: &[LOGGER],
};

/// Events of the `renamed-queue` route, to its queue (when no test changes it).
const TO_QUEUE: Route = Route {
    kind: event("rq"),
    before: &["renamed"],
    after: &["renamed"],
};

async fn queue_exists(stack: &stack::Stack, key: &str) -> bool {
    let sqs = aws_sdk_sqs::Client::new(&stack.ctx.sdk().await);
    let url = sqs.get_queue_url().queue_name(stack.queue_name(key));
    url.send().await.is_ok()
}

/// The contraction took the function's target off the retiring rule before the permission that
/// lets the rule invoke it. (The other order leaves, for a moment, a target AWS is not allowed
/// to invoke: its deliveries fail and go to the dead-letter queue. Ministack does not check the
/// permission, so the order is what can be tested here.)
fn target_unwired_before_permission(stack: &stack::Stack, rule: &str) {
    let log = stack.step_log("contract");
    let target = log.find("target event-logger (no longer configured)");
    // The statement id names the alias the permission is on (`deploy-live-…`).
    let sid = format!("-{}-{rule} (no longer configured)", stack.env());
    let permission = log
        .lines()
        .find(|l| l.contains("permission deploy-") && l.contains(&sid))
        .and_then(|line| log.find(line));
    assert!(
        target.is_some() && permission.is_some() && target < permission,
        "the target first, then the permission:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_detail_filter_added_to_a_route() {
    let stack = STACK.write().await;
    let filtered = |kind| Kind {
        detail_type: FILTERED,
        kind,
    };
    let scenario = Scenario {
        name: "detail filter added",
        routes: vec![
            Route {
                kind: filtered("big"),
                before: &["filtered"],
                after: &["filtered"],
            },
            Route {
                kind: filtered("small"),
                before: &["filtered"],
                after: &[],
            },
            LOGGED,
        ],
        queues: vec![("filtered", "filtered-inbox".into())],
        deploy_args: vec![],
    };
    let hub = stack.hub().route(
        "filtered",
        &format!(
            "events = [\"load-filtered\"]\ndetail = '{{\"kind\":[\"big\"]}}'\n{}",
            queue("filtered-inbox")
        ),
    );
    let outcome = scenario.run(&stack, hub, || {}).await;
    outcome.assert_sound(&stack, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_pattern_changed() {
    let stack = STACK.write().await;
    let scenario = Scenario {
        name: "pattern changed",
        routes: vec![
            Route {
                kind: event("p1"),
                before: &["patterned"],
                after: &[],
            },
            Route {
                kind: event("p2"),
                before: &["patterned"],
                after: &["patterned"],
            },
            Route {
                kind: event("p3"),
                before: &[],
                after: &["patterned"],
            },
            LOGGED,
        ],
        queues: vec![("patterned", "patterned-inbox".into())],
        deploy_args: vec![],
    };
    let body = format!("{}\n{}", kinds(&["p2", "p3"]), queue("patterned-inbox"));
    let hub = stack.hub().route("patterned", &body);
    let outcome = scenario.run(&stack, hub, || {}).await;
    outcome.assert_sound(&stack, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_renamed_with_a_queue_target() {
    let stack = STACK.write().await;
    let scenario = Scenario {
        name: "route renamed (queue)",
        routes: vec![TO_QUEUE, LOGGED],
        queues: vec![("renamed", "renamed-inbox".into())],
        deploy_args: vec![],
    };
    let deployed = stack.hub();
    let body = deployed.body("renamed-queue");
    let hub = deployed
        .without("renamed-queue")
        .route("renamed-queue-2", &body);
    let outcome = scenario.run(&stack, hub, || {}).await;
    outcome.assert_sound(&stack, 0);
    let rules = support::aws::rule_names(&stack.ctx).await;
    let env = stack.env();
    assert!(
        rules.contains(&format!("{env}-renamed-queue-2")),
        "{rules:?}"
    );
    assert!(
        !rules.contains(&format!("{env}-renamed-queue")),
        "{rules:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_renamed_with_a_function_target() {
    let stack = STACK.write().await;
    let scenario = Scenario {
        name: "route renamed (function)",
        routes: vec![
            Route {
                kind: event("rf"),
                before: &[LOGGER],
                after: &[LOGGER],
            },
            TO_QUEUE,
        ],
        queues: vec![("renamed", "renamed-inbox".into())],
        deploy_args: vec![],
    };
    let deployed = stack.hub();
    let body = deployed.body("renamed-function");
    let hub = deployed
        .without("renamed-function")
        .route("renamed-function-2", &body);
    let outcome = scenario.run(&stack, hub, || {}).await;
    outcome.assert_sound(&stack, 0);
    let rules = support::aws::rule_names(&stack.ctx).await;
    let env = stack.env();
    assert!(
        !rules.contains(&format!("{env}-renamed-function")),
        "{rules:?}"
    );
    target_unwired_before_permission(&stack, "renamed-function");
}

/// The consumer reads both queues throughout; `--drain-timeout 60s` lets the contraction wait
/// for it to read the old queue empty (rather than stopping with exit 9 and running again).
#[tokio::test(flavor = "multi_thread")]
async fn a_queue_target_swapped_for_a_new_queue() {
    let stack = STACK.write().await;
    let (old, new) = ("swapped-inbox", "swapped-inbox-2");
    let scenario = Scenario {
        name: "queue swapped",
        routes: vec![
            Route {
                kind: event("sw"),
                before: &["swapped"],
                after: &["swapped"],
            },
            LOGGED,
        ],
        queues: vec![("swapped", old.into()), ("swapped", new.into())],
        deploy_args: vec!["--drain-timeout", "60s"],
    };
    let body = format!("{}\n{}", kinds(&["sw"]), queue(new));
    let hub = stack.hub().route("swapped", &body);
    let outcome = scenario.run(&stack, hub, || {}).await;
    outcome.assert_sound(&stack, 0);
    assert!(!queue_exists(&stack, old).await, "the old queue is removed");
    assert!(queue_exists(&stack, new).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_function_target_moved_to_another_route() {
    let stack = STACK.write().await;
    let scenario = Scenario {
        name: "function target moved",
        routes: vec![
            Route {
                kind: event("mv"),
                before: &[LOGGER],
                after: &[LOGGER],
            },
            Route {
                kind: event("mva"),
                before: &[LOGGER],
                after: &[],
            },
            Route {
                kind: event("mvb"),
                before: &[],
                after: &[LOGGER],
            },
            TO_QUEUE,
        ],
        queues: vec![("renamed", "renamed-inbox".into())],
        deploy_args: vec![],
    };
    let hub = stack
        .hub()
        .route("moved-from", &kinds(&["mv", "mva"]))
        .route(
            "moved-to",
            &format!("{}\n{}", kinds(&["mv", "mvb"]), stack::LOGGER),
        );
    let outcome = scenario.run(&stack, hub, || {}).await;
    outcome.assert_sound(&stack, 0);
    target_unwired_before_permission(&stack, "moved-from");
}

async fn logger_function(stack: &stack::Stack) -> aws_sdk_lambda::types::FunctionConfiguration {
    let lambda = aws_sdk_lambda::Client::new(&stack.ctx.sdk().await);
    let got = lambda
        .get_function()
        .function_name(format!("{}-event-logger", stack.env()))
        .send()
        .await
        .unwrap();
    got.configuration.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_function_code_changed() {
    let stack = STACK.write().await;
    let scenario = Scenario {
        name: "function code changed",
        routes: vec![LOGGED, TO_QUEUE],
        queues: vec![("renamed", "renamed-inbox".into())],
        deploy_args: vec![],
    };
    let before = logger_function(&stack).await.code_sha256;
    let source = stack.logger_source();
    let outcome = scenario
        .run(&stack, stack.hub(), || {
            // New code, the same EVENT_RECEIVED line; kept, like every test's change.
            let code = std::fs::read_to_string(&source).unwrap();
            let changed = format!("{code}\nexport const CHANGED_UNDER_LOAD = true;\n");
            std::fs::write(&source, changed).unwrap();
        })
        .await;
    outcome.assert_sound(&stack, 0);
    let after = logger_function(&stack).await.code_sha256;
    assert_ne!(before, after, "the new code is deployed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_function_memory_changed() {
    let stack = STACK.write().await;
    let scenario = Scenario {
        name: "function memory changed",
        routes: vec![LOGGED, TO_QUEUE],
        queues: vec![("renamed", "renamed-inbox".into())],
        deploy_args: vec![],
    };
    let hub = stack.hub().logger_memory(512);
    let outcome = scenario.run(&stack, hub, || {}).await;
    outcome.assert_sound(&stack, 0);
    assert_eq!(logger_function(&stack).await.memory_size, Some(512));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_route_added() {
    let stack = STACK.write().await;
    let scenario = Scenario {
        name: "route added",
        routes: vec![
            Route {
                kind: event("nw"),
                before: &[],
                after: &[LOGGER],
            },
            LOGGED,
        ],
        queues: vec![],
        deploy_args: vec![],
    };
    let body = format!("{}\n{}", kinds(&["nw"]), stack::LOGGER);
    let hub = stack.hub().route("added", &body);
    let outcome = scenario.run(&stack, hub, || {}).await;
    outcome.assert_sound(&stack, 0);
}

/// Nothing publishes to the removed route any more (its producers are gone: that is why it is
/// removed), so its queue is empty; the other routes carry the load meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn a_route_with_an_empty_queue_removed() {
    let stack = STACK.write().await;
    let scenario = Scenario {
        name: "route removed",
        routes: vec![LOGGED, TO_QUEUE],
        queues: vec![("renamed", "renamed-inbox".into())],
        deploy_args: vec![],
    };
    let hub = stack.hub().without("removed");
    let outcome = scenario.run(&stack, hub, || {}).await;
    outcome.assert_sound(&stack, 0);
    assert!(!queue_exists(&stack, "removed-inbox").await);
    let rules = support::aws::rule_names(&stack.ctx).await;
    assert!(
        !rules.contains(&format!("{}-removed", stack.env())),
        "{rules:?}"
    );
}

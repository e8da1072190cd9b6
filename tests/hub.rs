//! The hub as data, against ministack with real terraform: an event type and routes added in
//! `deploy.toml` (plus one schema and one example) are deployed and proven — to a queue the
//! deployment creates, to a Step Functions state machine, to another bus — and removed again
//! with nothing else touched; a shipped contract version cannot be edited; breaking contract
//! versions fail `deploy contracts check` and `deploy plan` with exit 2.
//!
//! The hub with the added routes is deployed once per test process ([`stack::HUB`]); the tests
//! that change it hold it alone (removing the routes leaves them for the next test that wants
//! the hub to deploy again: none, in a whole run, as that test sorts last).

#[path = "hub/stack.rs"]
mod stack;
mod support;

use predicates::prelude::*;
use serde_json::{Value, json};
use stack::{EVENT_TYPE, HUB, add_order_contract, check, order_schema, queues, rules};
use support::shared::FileEdit;
use support::{Kind, TestContext};

#[tokio::test(flavor = "multi_thread")]
async fn each_added_route_becomes_a_rule_on_the_bus() {
    let h = HUB.read().await;
    let (events, _, _) = h.clients().await;
    let deployed = rules(&events, &h.bus()).await;
    for r in ["billing", "fulfilment", "partner"] {
        assert!(
            deployed.contains_key(&format!("{}-order-placed-to-{r}", h.env())),
            "{deployed:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queue_target_is_created_by_the_deployment_and_owned_by_it() {
    let h = HUB.read().await;
    let (_, sqs, _) = h.clients().await;
    let billing = h.billing();
    assert_eq!(queues(&sqs, &billing).await.len(), 1);
    let state = h.ctx.state_json();
    let inventory = state["inventory"].as_array().unwrap();
    assert!(
        inventory
            .iter()
            .any(|r| r["kind"] == "consumer-queue" && r["name"] == billing.as_str()),
        "{inventory:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shipped_contract_version_is_recorded_by_its_hash() {
    let h = HUB.read().await;
    assert_eq!(
        h.ctx.state_json()["contracts"]["order-placed"]["1"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
}

/// test-events proved each target with the example.
#[tokio::test(flavor = "multi_thread")]
async fn every_new_target_is_proven_by_test_events_with_the_example() {
    let h = HUB.read().await;
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(h.ctx.state_dir().join("test-results.json")).unwrap(),
    )
    .unwrap();
    let machine_id = h.machine.rsplit(':').next().unwrap();
    for name in [
        "route order-placed-to-billing -> sqs billing-inbox".to_string(),
        format!("route order-placed-to-fulfilment -> state_machine_arn {machine_id}"),
        format!("route order-placed-to-partner -> bus_arn {}", h.partner),
    ] {
        let c = check(&results, &name);
        assert_eq!(c["passed"], true, "{c}");
        assert_eq!(c["detail"], "1 of 1 events delivered", "{c}");
    }
    let order = results["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"] == "order-placed/v1.json")
        .unwrap();
    assert_eq!(
        order["delivered_to"].as_array().unwrap().len(),
        4,
        "{order}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn live_status_is_healthy_with_the_new_routes() {
    let h = HUB.read().await;
    h.ctx.deploy().args(["status", "--live"]).assert().success();
}

/// The shipped v1 is immutable: editing it fails the check and the plan.
#[tokio::test(flavor = "multi_thread")]
async fn a_shipped_contract_version_cannot_be_edited() {
    let h = HUB.write().await;
    let v1 = h.ctx.contracts_root.join("schemas/order-placed/v1.json");
    {
        let _edit = FileEdit::new(&v1, |text| text.replace("OrderPlaced", "Order placed"));
        for args in [&["contracts", "check"][..], &["plan"][..]] {
            h.ctx
                .deploy()
                .args(args)
                .assert()
                .code(2)
                .stderr(predicate::str::contains("order-placed/v1.json: version 1"))
                .stderr(predicate::str::contains("immutable"));
        }
    }
    // Put back, it passes again.
    h.ctx
        .deploy()
        .args(["contracts", "check"])
        .assert()
        .success();
}

/// Removing the routes removes their rules and queue, and nothing else.
#[tokio::test(flavor = "multi_thread")]
async fn removing_the_routes_removes_their_rules_and_queue_and_nothing_else() {
    let h = HUB.write().await;
    let (events, sqs, sfn) = h.clients().await;
    let (env, bus, billing) = (h.env().to_string(), h.bus(), h.billing());
    let deployed = rules(&events, &bus).await;
    let other_queues: Vec<String> = queues(&sqs, &env)
        .await
        .into_iter()
        .filter(|q| !q.ends_with(&billing))
        .collect();
    let _removed = FileEdit::new(&h.ctx.config_path(), |text| {
        assert!(text.contains(&h.routes));
        text.replace(&h.routes, "")
    });
    h.ctx
        .deploy()
        .args(["all", "--auto-approve"])
        .assert()
        .success();
    let after = rules(&events, &bus).await;
    let mut expected = deployed.clone();
    expected.retain(|name, _| !name.starts_with(&format!("{env}-order-placed-to-")));
    assert_eq!(deployed.len(), expected.len() + 3, "{deployed:?}");
    assert_eq!(
        after, expected,
        "only the three rules went, the rest kept their ARNs"
    );
    assert_eq!(queues(&sqs, &billing).await, Vec::<String>::new());
    assert_eq!(queues(&sqs, &env).await, other_queues);
    assert!(
        !h.ctx.state_json()["inventory"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "consumer-queue")
    );
    // The state machine and the other bus were never the deployment's.
    assert!(
        sfn.describe_state_machine()
            .state_machine_arn(&h.machine)
            .send()
            .await
            .is_ok()
    );
    assert!(
        events
            .describe_event_bus()
            .name(&h.partner)
            .send()
            .await
            .is_ok()
    );
    // The routes are deployed again by the next test that wants the hub.
    h.leave_for_repair();
}

/// An offline project (no AWS: `deploy contracts check`) with the `order-placed` contract's v1,
/// and where its v2 goes.
fn offline_with_order_contract() -> (TestContext, std::path::PathBuf) {
    let ctx = TestContext::offline().own_contracts().config(EVENT_TYPE);
    add_order_contract(&ctx);
    let v2 = ctx.contracts_root.join("schemas/order-placed/v2.json");
    (ctx, v2)
}

/// `deploy contracts check` refuses a breaking v2 under the default `backward` mode, naming the
/// file, the versions, the JSON pointer and the rule.
fn assert_v2_breaks_backward(schema: String, pointer: &str, rule: &str) {
    let (ctx, v2) = offline_with_order_contract();
    std::fs::write(&v2, schema).unwrap();
    let out = ctx.deploy().args(["contracts", "check"]).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("order-placed/v2.json: v1 → v2 breaks backward"),
        "{stderr}"
    );
    assert!(stderr.contains(pointer), "{stderr}");
    assert!(stderr.contains(rule), "{stderr}");
}

#[test]
fn the_contract_check_passes_every_event_type_and_version_of_a_new_project() {
    let (ctx, _) = offline_with_order_contract();
    ctx.deploy()
        .args(["contracts", "check"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "6 event types, 6 contract versions",
        ));
}

#[test]
fn a_changed_property_type_breaks_backward_compatibility() {
    assert_v2_breaks_backward(
        order_schema(json!({"total": {"type": "string"}}), &[]),
        "/properties/detail/properties/total/type",
        "rule 13",
    );
}

#[test]
fn a_narrowed_enum_breaks_backward_compatibility() {
    assert_v2_breaks_backward(
        order_schema(
            json!({"currency": {"type": "string", "enum": ["EUR", "USD"]}}),
            &[],
        ),
        "/properties/detail/properties/currency/enum",
        "rule 16",
    );
}

#[test]
fn a_new_required_property_breaks_backward_compatibility() {
    assert_v2_breaks_backward(
        order_schema(json!({"customerId": {"type": "string"}}), &["customerId"]),
        "/properties/detail/properties/customerId",
        "rule 5",
    );
}

/// An optional property added to the closed detail object: compatible.
#[test]
fn an_optional_property_added_is_compatible() {
    let (ctx, v2) = offline_with_order_contract();
    std::fs::write(&v2, order_schema(json!({"note": {"type": "string"}}), &[])).unwrap();
    ctx.deploy()
        .args(["contracts", "check"])
        .assert()
        .success()
        .stderr(predicate::str::contains("7 contract versions compatible"));
}

/// A gap in the numbering is a layout error naming the file.
#[test]
fn a_gap_in_the_version_numbers_is_an_error_naming_the_file() {
    let (ctx, v2) = offline_with_order_contract();
    std::fs::write(
        v2.with_file_name("v3.json"),
        order_schema(json!({"note": {"type": "string"}}), &[]),
    )
    .unwrap();
    ctx.deploy()
        .args(["contracts", "check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("v3.json: v2.json is missing"));
}

/// `none` lets a type change through.
#[test]
fn compatibility_none_lets_a_type_change_through() {
    let (ctx, v2) = offline_with_order_contract();
    std::fs::write(&v2, order_schema(json!({"total": {"type": "string"}}), &[])).unwrap();
    let ctx = ctx.replace_config(&EVENT_TYPE.replace(
        "detail_type = \"Order Placed\"\n",
        "detail_type = \"Order Placed\"\ncompatibility = \"none\"\n",
    ));
    ctx.deploy().args(["contracts", "check"]).assert().success();
}

/// `deploy plan` runs the same gate (against an emulator: nothing deployed yet).
#[test]
fn plan_refuses_a_breaking_version_with_exit_2() {
    let ctx = TestContext::with(Kind::Ministack)
        .own_contracts()
        .config(EVENT_TYPE);
    add_order_contract(&ctx);
    std::fs::write(
        ctx.contracts_root.join("schemas/order-placed/v2.json"),
        order_schema(json!({"total": {"type": "string"}}), &[]),
    )
    .unwrap();
    ctx.deploy()
        .arg("plan")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/properties/detail/properties/total/type",
        ))
        .stderr(predicate::str::contains("rule 13"))
        .stderr(predicate::str::contains("nothing was deployed"));
}

//! The hub as data, against ministack with real terraform: an event type and routes added in
//! `deploy.toml` (plus one schema and one example) are deployed and proven — to a queue the
//! deployment creates, to a Step Functions state machine, to another bus — and removed again
//! with nothing else touched; a shipped contract version cannot be edited; breaking contract
//! versions fail `deploy contracts check` and `deploy plan` with exit 2.

mod support;

use std::collections::BTreeMap;

use predicates::prelude::*;
use serde_json::{Value, json};
use support::{Kind, TestContext};

/// A closed object schema (draft 4) for `order-placed`.
fn order_schema(extra_props: Value, extra_required: &[&str]) -> String {
    let mut detail = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["orderId", "total"],
        "properties": {
            "orderId": {"type": "string", "minLength": 1},
            "total": {"type": "number", "minimum": 0},
            "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]}
        }
    });
    for (k, v) in extra_props.as_object().unwrap() {
        detail["properties"][k] = v.clone();
    }
    for r in extra_required {
        detail["required"].as_array_mut().unwrap().push(json!(r));
    }
    serde_json::to_string_pretty(&json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "OrderPlaced",
        "type": "object",
        "required": ["source", "detail-type", "detail"],
        "properties": {
            "source": {"type": "string", "enum": ["custom.shop"]},
            "detail-type": {"type": "string", "enum": ["Order Placed"]},
            "detail": detail
        }
    }))
    .unwrap()
}

const EVENT_TYPE: &str = "[events.order-placed]\nsource = \"custom.shop\"\n\
                          detail_type = \"Order Placed\"\n";

/// Adds the `order-placed` contract (v1) and its example to the context's own copy.
fn add_order_contract(ctx: &TestContext) {
    let schemas = ctx.contracts_root.join("schemas/order-placed");
    let examples = ctx.contracts_root.join("examples/order-placed");
    std::fs::create_dir_all(&schemas).unwrap();
    std::fs::create_dir_all(&examples).unwrap();
    std::fs::write(schemas.join("v1.json"), order_schema(json!({}), &[])).unwrap();
    let example = json!({"source": "custom.shop", "detail-type": "Order Placed",
                         "detail": {"orderId": "o-1", "total": 12.5, "currency": "EUR"}});
    std::fs::write(examples.join("v1.json"), example.to_string()).unwrap();
}

async fn rules(events: &aws_sdk_eventbridge::Client, bus: &str) -> BTreeMap<String, String> {
    let out = events
        .list_rules()
        .event_bus_name(bus)
        .send()
        .await
        .unwrap();
    out.rules()
        .iter()
        .map(|r| {
            (
                r.name().unwrap().to_string(),
                r.arn().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn queues(sqs: &aws_sdk_sqs::Client, prefix: &str) -> Vec<String> {
    let out = sqs
        .list_queues()
        .queue_name_prefix(prefix)
        .send()
        .await
        .unwrap();
    let mut q: Vec<String> = out.queue_urls().to_vec();
    q.sort();
    q
}

fn check<'a>(results: &'a Value, name: &str) -> &'a Value {
    results["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {results:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_to_a_queue_a_state_machine_and_another_bus_are_deployed_proven_and_removed() {
    let ctx = TestContext::with(Kind::Ministack).own_contracts();
    let env = ctx.environment.clone();
    let sdk = ctx.sdk().await;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let sfn = aws_sdk_sfn::Client::new(&sdk);

    // What exists outside the deployment: a state machine and another bus.
    let machine = sfn
        .create_state_machine()
        .name(format!("{env}-fulfilment"))
        .definition(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#)
        .role_arn("arn:aws:iam::000000000000:role/sfn")
        .send()
        .await
        .unwrap()
        .state_machine_arn
        .clone();
    let partner = format!("{env}-partner");
    let partner_arn = events
        .create_event_bus()
        .name(&partner)
        .send()
        .await
        .unwrap()
        .event_bus_arn
        .unwrap();

    // Only deploy.toml, one schema and one example.
    add_order_contract(&ctx);
    let routes = format!(
        "[routes.order-placed-to-billing]\nevents = [\"order-placed\"]\n\
         targets = [{{ sqs = \"billing-inbox\" }}]\n\n\
         [routes.order-placed-to-fulfilment]\nevents = [\"order-placed\"]\n\
         targets = [{{ state_machine_arn = \"{machine}\" }}]\n\n\
         [routes.order-placed-to-partner]\nevents = [\"order-placed\"]\n\
         targets = [{{ bus_arn = \"{partner_arn}\" }}]\n"
    );
    let ctx = ctx.config(&format!(
        "[tests]\ndelivery_timeout_seconds = 15\n\n{EVENT_TYPE}\n{routes}"
    ));
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .assert()
        .success();

    let bus = format!("{env}-application-events");
    let deployed = rules(&events, &bus).await;
    for r in ["billing", "fulfilment", "partner"] {
        assert!(
            deployed.contains_key(&format!("{env}-order-placed-to-{r}")),
            "{deployed:?}"
        );
    }
    let billing = format!("{env}-billing-inbox");
    assert_eq!(queues(&sqs, &billing).await.len(), 1);
    let state = ctx.state_json();
    let inventory = state["inventory"].as_array().unwrap();
    assert!(
        inventory
            .iter()
            .any(|r| r["kind"] == "consumer-queue" && r["name"] == billing.as_str()),
        "{inventory:?}"
    );
    assert_eq!(
        state["contracts"]["order-placed"]["1"]
            .as_str()
            .unwrap()
            .len(),
        64
    );

    // test-events proved each target with the example.
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(ctx.state_dir().join("test-results.json")).unwrap(),
    )
    .unwrap();
    let machine_id = machine.rsplit(':').next().unwrap();
    for name in [
        "route order-placed-to-billing -> sqs billing-inbox".to_string(),
        format!("route order-placed-to-fulfilment -> state_machine_arn {machine_id}"),
        format!("route order-placed-to-partner -> bus_arn {partner}"),
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
    ctx.deploy().args(["status", "--live"]).assert().success();

    // The shipped v1 is immutable: editing it fails the check and the plan.
    let v1 = ctx.contracts_root.join("schemas/order-placed/v1.json");
    let original = std::fs::read_to_string(&v1).unwrap();
    std::fs::write(&v1, original.replace("OrderPlaced", "Order placed")).unwrap();
    for args in [&["contracts", "check"][..], &["plan"][..]] {
        ctx.deploy()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("order-placed/v1.json: version 1"))
            .stderr(predicate::str::contains("immutable"));
    }
    std::fs::write(&v1, original).unwrap();

    // Removing the routes removes their rules and queue, and nothing else.
    let other_queues: Vec<String> = queues(&sqs, &env)
        .await
        .into_iter()
        .filter(|q| !q.ends_with(&billing))
        .collect();
    let ctx = ctx.replace_config(&format!(
        "[tests]\ndelivery_timeout_seconds = 15\n\n{EVENT_TYPE}"
    ));
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .assert()
        .success();
    let after = rules(&events, &bus).await;
    let mut expected = deployed.clone();
    expected.retain(|name, _| !name.starts_with(&format!("{env}-order-placed-to-")));
    assert_eq!(
        after, expected,
        "only the three rules went, the rest kept their ARNs"
    );
    assert_eq!(queues(&sqs, &billing).await, Vec::<String>::new());
    assert_eq!(queues(&sqs, &env).await, other_queues);
    assert!(
        !ctx.state_json()["inventory"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "consumer-queue")
    );
    // The state machine and the other bus were never the deployment's.
    assert!(
        sfn.describe_state_machine()
            .state_machine_arn(&machine)
            .send()
            .await
            .is_ok()
    );
    assert!(
        events
            .describe_event_bus()
            .name(&partner)
            .send()
            .await
            .is_ok()
    );
}

/// `deploy contracts check` (no AWS) and `deploy plan` refuse breaking new versions under the
/// default `backward` mode, naming the file, the JSON pointer, the rule and the versions.
#[test]
fn breaking_versions_fail_the_contract_check_and_compatible_ones_pass() {
    let ctx = TestContext::offline().own_contracts().config(EVENT_TYPE);
    add_order_contract(&ctx);
    let v2 = ctx.contracts_root.join("schemas/order-placed/v2.json");
    let ok = || ctx.deploy().args(["contracts", "check"]).assert().success();
    ok().stderr(predicate::str::contains(
        "6 event types, 6 contract versions",
    ));

    let cases = [
        (
            order_schema(json!({"total": {"type": "string"}}), &[]),
            "/properties/detail/properties/total/type",
            "rule 13",
        ),
        (
            order_schema(
                json!({"currency": {"type": "string", "enum": ["EUR", "USD"]}}),
                &[],
            ),
            "/properties/detail/properties/currency/enum",
            "rule 16",
        ),
        (
            order_schema(json!({"customerId": {"type": "string"}}), &["customerId"]),
            "/properties/detail/properties/customerId",
            "rule 5",
        ),
    ];
    for (schema, pointer, rule) in cases {
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

    // An optional property added to the closed detail object: compatible.
    std::fs::write(&v2, order_schema(json!({"note": {"type": "string"}}), &[])).unwrap();
    ok().stderr(predicate::str::contains("7 contract versions compatible"));

    // A gap in the numbering is a layout error naming the file.
    std::fs::rename(&v2, v2.with_file_name("v3.json")).unwrap();
    ctx.deploy()
        .args(["contracts", "check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("v3.json: v2.json is missing"));
    std::fs::rename(v2.with_file_name("v3.json"), &v2).unwrap();

    // `none` lets a type change through.
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

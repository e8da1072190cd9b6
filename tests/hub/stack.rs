//! The hub `hub.rs` shares: an `order-placed` event type and three routes added in `deploy.toml`
//! (plus one schema and one example) — to a queue the deployment creates, to a Step Functions
//! state machine and to another bus, both made outside the deployment — deployed with
//! `deploy all` once per test process; and the contract and lookups the tests use.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::shared::{Fixture, Shared, block_on};
use crate::support::{Kind, TestContext};

pub static HUB: Shared<Hub> = Shared::new();

pub const EVENT_TYPE: &str = "[events.order-placed]\nsource = \"custom.shop\"\n\
                              detail_type = \"Order Placed\"\n";

pub struct Hub {
    pub ctx: TestContext,
    /// The state machine's ARN and the other bus's name: never the deployment's.
    pub machine: String,
    pub partner: String,
    /// The `[routes.*]` added to `deploy.toml`.
    pub routes: String,
    /// `deploy.toml` as deployed.
    config: String,
}

impl Fixture for Hub {
    fn deploy() -> Hub {
        let ctx = TestContext::with(Kind::Ministack).own_contracts();
        let env = ctx.environment.clone();
        // What exists outside the deployment: a state machine and another bus.
        let partner = format!("{env}-partner");
        let (machine, partner_arn) = block_on(async {
            let sdk = ctx.sdk().await;
            let machine = aws_sdk_sfn::Client::new(&sdk)
                .create_state_machine()
                .name(format!("{env}-fulfilment"))
                .definition(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#)
                .role_arn("arn:aws:iam::000000000000:role/sfn")
                .send()
                .await
                .unwrap()
                .state_machine_arn;
            let partner_arn = aws_sdk_eventbridge::Client::new(&sdk)
                .create_event_bus()
                .name(&partner)
                .send()
                .await
                .unwrap()
                .event_bus_arn
                .unwrap();
            (machine, partner_arn)
        });

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
        Hub {
            config: std::fs::read_to_string(ctx.config_path()).unwrap(),
            ctx,
            machine,
            partner,
            routes,
        }
    }

    /// The contract and `deploy.toml` as deployed, and `deploy all` (which puts removed routes
    /// back).
    fn repair(&self) {
        add_order_contract(&self.ctx);
        std::fs::write(self.ctx.config_path(), &self.config).unwrap();
        self.ctx
            .deploy()
            .args(["all", "--auto-approve"])
            .assert()
            .success();
    }
}

impl Hub {
    pub fn env(&self) -> &str {
        &self.ctx.environment
    }

    pub fn bus(&self) -> String {
        format!("{}-application-events", self.env())
    }

    pub fn billing(&self) -> String {
        format!("{}-billing-inbox", self.env())
    }

    pub async fn clients(
        &self,
    ) -> (
        aws_sdk_eventbridge::Client,
        aws_sdk_sqs::Client,
        aws_sdk_sfn::Client,
    ) {
        let sdk = self.ctx.sdk().await;
        (
            aws_sdk_eventbridge::Client::new(&sdk),
            aws_sdk_sqs::Client::new(&sdk),
            aws_sdk_sfn::Client::new(&sdk),
        )
    }
}

/// A closed object schema (draft 4) for `order-placed`.
pub fn order_schema(extra_props: Value, extra_required: &[&str]) -> String {
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

/// Adds the `order-placed` contract (v1) and its example to the context's own copy.
pub fn add_order_contract(ctx: &TestContext) {
    let schemas = ctx.contracts_root.join("schemas/order-placed");
    let examples = ctx.contracts_root.join("examples/order-placed");
    std::fs::create_dir_all(&schemas).unwrap();
    std::fs::create_dir_all(&examples).unwrap();
    std::fs::write(schemas.join("v1.json"), order_schema(json!({}), &[])).unwrap();
    let example = json!({"source": "custom.shop", "detail-type": "Order Placed",
                         "detail": {"orderId": "o-1", "total": 12.5, "currency": "EUR"}});
    std::fs::write(examples.join("v1.json"), example.to_string()).unwrap();
}

/// The rules on `bus`: name → ARN.
pub async fn rules(events: &aws_sdk_eventbridge::Client, bus: &str) -> BTreeMap<String, String> {
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

pub async fn queues(sqs: &aws_sdk_sqs::Client, prefix: &str) -> Vec<String> {
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

pub fn check<'a>(results: &'a Value, name: &str) -> &'a Value {
    results["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {results:#}"))
}

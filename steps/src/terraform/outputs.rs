//! `terraform output -json`: the step's outputs in the ledger, and the resources this
//! deployment owns.

use std::collections::BTreeMap;

use deploy_state::{Resource, ResourceKind};
use serde_json::Value;

use crate::engine::StepError;

/// Every output the Rust code reads (the contract test checks each exists in the HCL).
pub const OUTPUTS_READ: &[&str] = &[
    "event_bus_name",
    "event_bus_arn",
    "event_processor_role_arn",
    "event_publisher_role_arn",
    "dlq_role_arn",
    "dlq_url",
    "dlq_arn",
    "dlq_name",
    "archive_name",
    "archive_arn",
    "rule_names",
    "rule_arns",
    "consumer_queue_urls",
    "consumer_queue_arns",
    "targets",
    "role_names",
    "schema_registry_name",
];

/// The rule EventBridge adds to a bus for each archive. It belongs to the archive: never ours.
pub const MANAGED_ARCHIVE_RULE_PREFIX: &str = "Events-Archive-";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs {
    values: BTreeMap<String, Value>,
    sensitive: Vec<String>,
}

impl Outputs {
    /// Parses `terraform output -json` (`{"name": {"sensitive":..,"type":..,"value":..}}`).
    pub fn parse(json: &str) -> Result<Outputs, StepError> {
        let doc: BTreeMap<String, Value> = serde_json::from_str(json).map_err(|e| {
            StepError::permanent(format!(
                "`terraform output -json` printed something else: {e}"
            ))
        })?;
        let mut out = Outputs::default();
        for (name, o) in doc {
            if o["sensitive"].as_bool() == Some(true) {
                out.sensitive.push(name.clone());
            }
            out.values
                .insert(name, o.get("value").cloned().unwrap_or(Value::Null));
        }
        Ok(out)
    }

    /// The outputs an `apply -json` stream printed when it finished (its `outputs` message,
    /// shaped as `terraform output -json`), when every one of them has its value: `None` when
    /// there is no such message or one is sensitive (the stream leaves its value out).
    pub fn from_apply_stream(stream: &str) -> Option<Outputs> {
        let message = stream
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|m| m["type"] == "outputs")?;
        let outputs = message.get("outputs")?.as_object()?;
        if outputs.values().any(|o| o.get("value").is_none()) {
            return None;
        }
        Outputs::parse(&Value::Object(outputs.clone()).to_string()).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// A string output, when present and not empty.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.values.get(name)?.as_str().filter(|s| !s.is_empty())
    }

    pub fn list(&self, name: &str) -> Vec<String> {
        match self.values.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn map(&self, name: &str) -> BTreeMap<String, String> {
        match self.values.get(name) {
            Some(Value::Object(m)) => m
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect(),
            _ => BTreeMap::new(),
        }
    }

    /// The step's outputs: strings as they are, anything else JSON-encoded. Sensitive outputs
    /// are left out of the ledger.
    pub fn step_outputs(&self) -> BTreeMap<String, String> {
        self.values
            .iter()
            .filter(|(k, _)| !self.sensitive.contains(k))
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect()
    }

    /// The resources the stack created, as the inventory records them.
    pub fn owned_resources(&self, step: &str) -> Vec<Resource> {
        let mut out = Vec::new();
        let bus = self.str("event_bus_name").unwrap_or_default().to_string();
        if !bus.is_empty() {
            let mut r = Resource::new(ResourceKind::EventBus, &bus, step);
            if let Some(arn) = self.str("event_bus_arn") {
                r = r.with_arn(arn);
            }
            out.push(r);
        }
        let arns = self.map("rule_arns");
        for name in self.list("rule_names") {
            if name.starts_with(MANAGED_ARCHIVE_RULE_PREFIX) {
                continue;
            }
            let mut r = Resource::new(ResourceKind::Rule, &name, step).on_bus(&bus);
            if let Some(arn) = arns.get(&name) {
                r = r.with_arn(arn.clone());
            }
            out.push(r);
        }
        if let Some(name) = self.str("dlq_name") {
            let mut r = Resource::new(ResourceKind::Queue, name, step);
            if let Some(arn) = self.str("dlq_arn") {
                r = r.with_arn(arn);
            }
            let url = self.str("dlq_url").map(str::to_string);
            r = r.with(|a| a.url = url);
            out.push(r);
        }
        // role_names is publisher, processor, dlq: the order of these ARN outputs.
        let role_arns = [
            "event_publisher_role_arn",
            "event_processor_role_arn",
            "dlq_role_arn",
        ];
        for (i, name) in self.list("role_names").iter().enumerate() {
            let mut r = Resource::new(ResourceKind::Role, name, step);
            if let Some(arn) = role_arns.get(i).and_then(|k| self.str(k)) {
                r = r.with_arn(arn);
            }
            out.push(r);
        }
        if let Some(name) = self.str("archive_name") {
            let mut r = Resource::new(ResourceKind::Archive, name, step);
            if let Some(arn) = self.str("archive_arn") {
                r = r.with_arn(arn);
            }
            out.push(r);
        }
        if let Some(name) = self.str("schema_registry_name") {
            out.push(Resource::new(ResourceKind::SchemaRegistry, name, step));
        }
        // Queues routes deliver to, and the targets Terraform made on the routes' rules.
        let queue_arns = self.map("consumer_queue_arns");
        for (name, url) in self.map("consumer_queue_urls") {
            let mut r =
                Resource::new(ResourceKind::ConsumerQueue, &name, step).with(|a| a.url = Some(url));
            if let Some(arn) = queue_arns.get(&name) {
                r = r.with_arn(arn.clone());
            }
            out.push(r);
        }
        for (key, arn) in self.map("targets") {
            let Some((rule, id)) = key.rsplit_once('/') else {
                continue;
            };
            out.push(
                Resource::new(ResourceKind::Target, id, step)
                    .with_arn(arn)
                    .on_bus(&bus)
                    .with(|a| a.rule = Some(rule.to_string())),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `apply -json` stream as Terraform 1.11 prints it: the planned outputs (actions, no
    /// values) first, the applied ones last, shaped as `terraform output -json`.
    #[test]
    fn the_outputs_an_apply_printed_are_read_from_its_stream() {
        let planned = r#"{"@level":"info","outputs":{"l":{"sensitive":false,"action":"create"}},"type":"outputs"}"#;
        let applied = r#"{"@level":"info","outputs":{"l":{"sensitive":false,"type":["tuple",["string"]],"value":["a"]},"s":{"sensitive":false,"type":"string","value":"x"}},"type":"outputs"}"#;
        let stream = format!("{planned}\nnot json\n{applied}\n");
        let outputs = Outputs::from_apply_stream(&stream).expect("the last message");
        let expected = Outputs::parse(
            r#"{"l":{"sensitive":false,"type":["tuple",["string"]],"value":["a"]},"s":{"sensitive":false,"type":"string","value":"x"}}"#,
        )
        .unwrap();
        assert_eq!(outputs, expected);
        assert_eq!(
            Outputs::from_apply_stream(planned),
            None,
            "no values: ask terraform"
        );
        let secret = r#"{"outputs":{"k":{"sensitive":true,"type":"string"}},"type":"outputs"}"#;
        assert_eq!(
            Outputs::from_apply_stream(secret),
            None,
            "a sensitive value is left out"
        );
        assert_eq!(Outputs::from_apply_stream("{}"), None);
    }

    const JSON: &str = r#"{
      "event_bus_name": {"sensitive": false, "type": "string", "value": "dev-application-events"},
      "event_bus_arn": {"sensitive": false, "type": "string", "value": "arn:bus"},
      "rule_names": {"sensitive": false, "type": ["list","string"], "value": ["dev-a", "Events-Archive-dev-event-archive"]},
      "rule_arns": {"sensitive": false, "type": ["map","string"], "value": {"dev-a": "arn:rule/a"}},
      "role_names": {"sensitive": false, "type": ["list","string"], "value": ["dev-event-publisher-role", "dev-event-processor-role", "dev-eventbridge-dlq-role"]},
      "event_publisher_role_arn": {"sensitive": false, "type": "string", "value": "arn:pub"},
      "dlq_role_arn": {"sensitive": false, "type": "string", "value": "arn:dlq-role"},
      "dlq_name": {"sensitive": false, "type": "string", "value": "dev-eventbridge-dlq"},
      "dlq_url": {"sensitive": false, "type": "string", "value": "http://q"},
      "archive_name": {"sensitive": false, "type": "string", "value": "dev-event-archive"},
      "schema_registry_name": {"sensitive": false, "type": "string", "value": ""},
      "secret": {"sensitive": true, "type": "string", "value": "s3cr3t"}
    }"#;

    #[test]
    fn outputs_are_strings_or_json_and_secrets_stay_out() {
        let o = Outputs::parse(JSON).unwrap();
        let s = o.step_outputs();
        assert_eq!(s["event_bus_name"], "dev-application-events");
        assert_eq!(s["rule_arns"], r#"{"dev-a":"arn:rule/a"}"#);
        assert_eq!(
            serde_json::from_str::<Vec<String>>(&s["rule_names"]).unwrap()[0],
            "dev-a"
        );
        assert!(!s.contains_key("secret"));
    }

    #[test]
    fn inventory_has_our_resources_and_never_the_managed_archive_rule() {
        let o = Outputs::parse(JSON).unwrap();
        let rs = o.owned_resources("infrastructure");
        let names: Vec<(&str, &str)> = rs
            .iter()
            .map(|r| (r.kind.name(), r.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("event-bus", "dev-application-events"),
                ("rule", "dev-a"),
                ("queue", "dev-eventbridge-dlq"),
                ("role", "dev-event-publisher-role"),
                ("role", "dev-event-processor-role"),
                ("role", "dev-eventbridge-dlq-role"),
                ("archive", "dev-event-archive"),
            ]
        );
        assert_eq!(rs[1].bus(), "dev-application-events");
        assert_eq!(rs[1].arn.as_deref(), Some("arn:rule/a"));
        assert_eq!(rs[3].arn.as_deref(), Some("arn:pub"));
        assert_eq!(rs[4].arn, None);
        assert_eq!(rs[5].arn.as_deref(), Some("arn:dlq-role"));
        assert_eq!(rs[2].attributes.url.as_deref(), Some("http://q"));
    }
}

//! The names the stack gives its resources of catalog kinds, by Terraform address: each comes
//! from a variable `deploy` writes, or from the configuration's derived names that the HCL
//! derives the same way (roles, the archive). With them, a plan's `-json` stream says what it
//! would create, by name, without asking Terraform to show the saved plan (one provider start
//! less on every change that creates something).

use std::collections::BTreeMap;

use deploy_config::{Config, STACK_ROLES};
use deploy_state::Resource;
use serde_json::Value;

use crate::terraform::TfVars;
use crate::terraform::planned::catalog_kind;

/// A resource of the stack: its type, its name in the HCL and its key (`for_each` or `count`).
type Address = (&'static str, &'static str, Option<String>);

/// What the stack names, and the bus a rule is on.
#[derive(Debug, Default)]
pub struct StackNames {
    names: BTreeMap<Address, (String, Option<String>)>,
}

/// Catalog types the stack makes without a name of their own (a target is its rule's).
const UNNAMED: &[&str] = &["aws_cloudwatch_event_target"];

impl StackNames {
    /// The names of everything the stack makes from `vars`, for the deployment `config`.
    pub fn of(vars: &TfVars, config: &Config) -> StackNames {
        let mut names = BTreeMap::new();
        let mut add = |ty, name, key: Option<String>, value: &str, bus: Option<&str>| {
            names.insert(
                (ty, name, key),
                (value.to_string(), bus.map(str::to_string)),
            );
        };
        let bus = vars.event_bus_name.as_str();
        add("aws_cloudwatch_event_bus", "this", None, bus, None);
        add(
            "aws_cloudwatch_event_archive",
            "this",
            None,
            &config.eventbus.archive_name,
            None,
        );
        add("aws_sqs_queue", "dlq", None, &vars.dlq_name, None);
        for (key, route) in &vars.routes {
            let key = Some(key.clone());
            add(
                "aws_cloudwatch_event_rule",
                "this",
                key,
                &route.rule_name,
                Some(bus),
            );
        }
        for (key, queue) in &vars.consumer_queues {
            add("aws_sqs_queue", "consumer", Some(key.clone()), queue, None);
        }
        for (role, _) in STACK_ROLES {
            // `targets` is made with `count`: one when a route delivers through it.
            let key = (role == "targets").then(|| "0".to_string());
            if key.is_some() && !vars.needs_targets_role() {
                continue;
            }
            if let Some(name) = config.stack_role_name(role) {
                add("aws_iam_role", role, key, &name, None);
            }
        }
        if vars.enable_schema_registry {
            let registry = vars.schema_registry_name.as_str();
            add(
                "aws_schemas_registry",
                "this",
                Some("0".into()),
                registry,
                None,
            );
        }
        StackNames { names }
    }

    /// Every resource of a catalog kind the stack makes from these variables, with its
    /// Terraform address.
    pub fn resources(&self) -> Vec<Resource> {
        self.names
            .iter()
            .filter_map(|((ty, hcl_name, key), (name, bus))| {
                let kind = catalog_kind(ty)?;
                let index = match key {
                    Some(k) if k.parse::<u64>().is_ok() => format!("[{k}]"),
                    Some(k) => format!("[{}]", serde_json::to_string(k).expect("a string")),
                    None => String::new(),
                };
                let address = format!("{ty}.{hcl_name}{index}");
                Some(Resource::new(kind, name, "").with(|a| {
                    a.address = Some(address);
                    a.bus = bus.clone();
                }))
            })
            .collect()
    }

    /// The creates of a plan, named, from its `-json` stream: when the plan only creates,
    /// updates in place and reads, and every create of a catalog kind is a resource these names
    /// know. `None` otherwise: a delete or a replacement needs what the resource is now, which
    /// only the saved plan holds.
    pub fn creates_in(&self, stream: &str) -> Option<Vec<Resource>> {
        let mut creates = Vec::new();
        for line in stream.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if v["type"] != "planned_change" {
                continue;
            }
            let resource = &v["change"]["resource"];
            let ty = resource["resource_type"].as_str().unwrap_or_default();
            match v["change"]["action"].as_str().unwrap_or_default() {
                "create" => {}
                "update" | "noop" | "read" => continue,
                _ => return None,
            }
            let Some(kind) = catalog_kind(ty) else {
                continue;
            };
            if UNNAMED.contains(&ty) {
                continue;
            }
            let key = match &resource["resource_key"] {
                Value::String(k) => Some(k.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            let hcl_name = resource["resource_name"].as_str().unwrap_or_default();
            let (name, bus) = self
                .names
                .iter()
                .find(|((t, n, k), _)| *t == ty && *n == hcl_name && *k == key)
                .map(|(_, v)| v)?;
            let address = resource["addr"].as_str().map(str::to_string);
            creates.push(Resource::new(kind, name, "").with(|a| {
                a.address = address;
                a.bus = bus.clone();
            }));
        }
        Some(creates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(addr: &str, ty: &str, name: &str, key: Value, action: &str) -> String {
        serde_json::json!({"type": "planned_change", "change": {
            "resource": {"addr": addr, "resource_type": ty, "resource_name": name,
                         "resource_key": key},
            "action": action}})
        .to_string()
    }

    fn names() -> StackNames {
        let config = deploy_config::parse(
            std::path::Path::new("/p/deploy.toml"),
            "[project]\nenvironment = \"dev\"\n",
            &deploy_config::Overrides::default(),
        )
        .expect("a minimal configuration");
        let mut vars = TfVars::from_config(&config);
        vars.consumer_queues
            .insert("orders".into(), "dev-orders-inbox".into());
        StackNames::of(&vars, &config)
    }

    #[test]
    fn creates_are_named_as_the_stack_names_them() {
        let stream = [
            planned(
                "aws_sqs_queue.consumer[\"orders\"]",
                "aws_sqs_queue",
                "consumer",
                "orders".into(),
                "create",
            ),
            planned(
                "aws_iam_role.processor",
                "aws_iam_role",
                "processor",
                Value::Null,
                "create",
            ),
            planned(
                "aws_iam_role.publisher",
                "aws_iam_role",
                "publisher",
                Value::Null,
                "update",
            ),
            planned(
                "aws_cloudwatch_event_target.this[\"a/b\"]",
                "aws_cloudwatch_event_target",
                "this",
                "a/b".into(),
                "create",
            ),
            "{\"type\":\"change_summary\"}".into(),
        ]
        .join("\n");
        let creates = names()
            .creates_in(&stream)
            .expect("only creates and updates");
        let labels: Vec<String> = creates.iter().map(Resource::label).collect();
        assert_eq!(
            labels,
            ["queue dev-orders-inbox", "role dev-event-processor-role"]
        );
        assert_eq!(
            creates[0].attributes.address.as_deref(),
            Some("aws_sqs_queue.consumer[\"orders\"]")
        );
    }

    #[test]
    fn the_resources_of_the_stack_have_their_addresses() {
        let all = names().resources();
        let find = |address: &str| {
            all.iter()
                .find(|r| r.attributes.address.as_deref() == Some(address))
                .map(Resource::label)
        };
        assert_eq!(
            find("aws_sqs_queue.consumer[\"orders\"]").as_deref(),
            Some("queue dev-orders-inbox")
        );
        assert_eq!(
            find("aws_iam_role.publisher").as_deref(),
            Some("role dev-event-publisher-role")
        );
        assert_eq!(find("aws_iam_role.targets[0]"), None, "no route needs it");
    }

    #[test]
    fn a_delete_a_replacement_or_an_unknown_create_needs_the_saved_plan() {
        let names = names();
        let one = |ty: &str, name: &str, key: Value, action: &str| {
            names.creates_in(&planned("x", ty, name, key, action))
        };
        assert!(one("aws_sqs_queue", "dlq", Value::Null, "delete").is_none());
        assert!(one("aws_iam_role_policy", "dlq", Value::Null, "replace").is_none());
        assert!(one("aws_sqs_queue", "consumer", "nope".into(), "create").is_none());
        assert_eq!(
            one("aws_iam_role_policy", "dlq", Value::Null, "create"),
            Some(vec![])
        );
    }
}

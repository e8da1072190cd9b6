//! What a saved plan would do (`terraform show -json PLAN`): the resources it creates (each with
//! its Terraform address, for adoption), deletes (a queue among them is checked for messages
//! first) and replaces (named, with what replacing them risks).

use deploy_state::{Resource, ResourceKind};
use serde_json::Value;

use crate::catalog;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Planned {
    /// Pure creates of the kinds this deployment names (a replacement is not a create: the old
    /// resource is already this deployment's).
    pub creates: Vec<Resource>,
    /// Pure deletes, of the kinds the catalog knows.
    pub deletes: Vec<Resource>,
    /// Replacements (delete and create), by Terraform address.
    pub replaces: Vec<String>,
    /// Every change, in plan order: (address, `create` / `update` / `replace` / `delete`).
    pub changes: Vec<(String, String)>,
    /// The resources of catalog kinds the plan updates, replaces or deletes, as they are now.
    pub touched: Vec<Resource>,
}

impl Planned {
    pub fn parse(plan_json: &str) -> Result<Planned, String> {
        let plan: Value =
            serde_json::from_str(plan_json).map_err(|e| format!("the plan is not JSON: {e}"))?;
        let mut out = Planned::default();
        for rc in plan["resource_changes"].as_array().into_iter().flatten() {
            let actions: Vec<&str> = rc["change"]["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let address = rc["address"].as_str().unwrap_or_default();
            let before = &rc["change"]["before"];
            let action = match actions.as_slice() {
                ["create"] => {
                    out.creates.extend(resource(rc, &rc["change"]["after"]));
                    "create"
                }
                ["delete"] => {
                    out.deletes.extend(resource(rc, before));
                    out.touched.extend(resource(rc, before));
                    "delete"
                }
                ["update"] => {
                    out.touched.extend(resource(rc, before));
                    "update"
                }
                a if a.contains(&"delete") && a.contains(&"create") => {
                    out.replaces.push(address.to_string());
                    out.touched.extend(resource(rc, before));
                    "replace"
                }
                _ => continue,
            };
            out.changes.push((address.to_string(), action.to_string()));
        }
        Ok(out)
    }

    /// The names of the queues the plan deletes.
    pub fn deleted_queues(&self) -> Vec<String> {
        self.deletes
            .iter()
            .filter(|r| catalog::of(r.kind).aws_type() == "AWS::SQS::Queue")
            .map(|r| r.name.clone())
            .collect()
    }
}

/// The resource one change describes (`values`: its `after` or its `before`), when it has a name
/// and its Terraform type is a kind of the catalog.
fn resource(rc: &Value, values: &Value) -> Option<Resource> {
    let name = values["name"].as_str().filter(|n| !n.is_empty())?;
    let kind = catalog_kind(rc["type"].as_str().unwrap_or_default())?;
    let address = rc["address"].as_str().map(str::to_string);
    let bus = values["event_bus_name"].as_str().map(str::to_string);
    Some(Resource::new(kind, name, "").with(|a| {
        a.address = address;
        a.bus = bus;
    }))
}

/// The catalog kind of a Terraform resource type (the first, for a type two kinds share).
pub(crate) fn catalog_kind(terraform_type: &str) -> Option<ResourceKind> {
    ResourceKind::all().find(|&k| catalog::of(k).terraform_type() == Some(terraform_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_deletes_and_replacements_are_told_apart() {
        let plan = r#"{"resource_changes":[
          {"address":"aws_sqs_queue.dlq","type":"aws_sqs_queue",
           "change":{"actions":["create"],"after":{"name":"dev-dlq"}}},
          {"type":"aws_cloudwatch_event_rule","change":{"actions":["create"],
             "after":{"name":"dev-r","event_bus_name":"dev-bus"}}},
          {"address":"aws_iam_role.x","type":"aws_iam_role",
           "change":{"actions":["delete","create"],"after":{"name":"x"}}},
          {"type":"aws_iam_role_policy","change":{"actions":["create"],"after":{"name":"p"}}},
          {"type":"aws_cloudwatch_event_target","change":{"actions":["create"],"after":{}}},
          {"type":"aws_sqs_queue","change":{"actions":["delete"],"before":{"name":"dev-old"}}},
          {"type":"aws_iam_role","change":{"actions":["no-op"],"after":{"name":"y"}}}
        ]}"#;
        let p = Planned::parse(plan).unwrap();
        let names: Vec<_> = p.creates.iter().map(Resource::label).collect();
        assert_eq!(names, ["queue dev-dlq", "rule dev-r"]);
        assert_eq!(
            p.creates[0].attributes.address.as_deref(),
            Some("aws_sqs_queue.dlq")
        );
        assert_eq!(p.creates[1].bus(), "dev-bus");
        assert_eq!(p.deleted_queues(), ["dev-old"]);
        assert_eq!(p.replaces, ["aws_iam_role.x"]);
        assert!(Planned::parse("nope").is_err());
    }
}

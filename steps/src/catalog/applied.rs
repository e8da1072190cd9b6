//! What Terraform last applied, for the drift checks to compare against: read from Terraform's
//! state (the attributes of every managed resource), indexed by Terraform type and name. Each
//! kind's module reads the attributes it compares. `terraform plan -refresh-only` would say the
//! same in ~3.5 s; the checks are a handful of concurrent API calls.

use std::collections::HashMap;

use deploy_state::Resource;
use serde_json::Value;

use super::{Tags, of};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// (Terraform type, `name` attribute) → the attributes applied.
    by_resource: HashMap<(String, String), Value>,
    /// Every instance's attributes, by Terraform type.
    by_type: HashMap<String, Vec<Value>>,
    /// The ownership tags every taggable resource carries (empty: not checked).
    pub tags: Tags,
}

impl Applied {
    /// The attributes applied to the resource `r` names, when Terraform manages its kind.
    pub fn of(&self, r: &Resource) -> Option<&Value> {
        let ty = of(r.kind).terraform_type()?;
        self.by_resource.get(&(ty.to_string(), r.name.clone()))
    }

    /// The attributes of every instance of a Terraform type.
    pub fn all(&self, terraform_type: &str) -> impl Iterator<Item = &Value> {
        self.by_type.get(terraform_type).into_iter().flatten()
    }

    pub fn is_empty(&self) -> bool {
        self.by_type.is_empty()
    }

    /// Reads `terraform.tfstate` (format version 4). Anything unreadable expects nothing.
    pub fn from_tfstate(bytes: &[u8]) -> Applied {
        let Ok(doc) = serde_json::from_slice::<Value>(bytes) else {
            return Applied::default();
        };
        let mut out = Applied::default();
        let managed = doc["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["mode"] == "managed");
        for r in managed {
            let ty = r["type"].as_str().unwrap_or_default().to_string();
            for i in r["instances"].as_array().into_iter().flatten() {
                let a = i["attributes"].clone();
                if let Some(name) = a["name"].as_str() {
                    out.by_resource
                        .insert((ty.clone(), name.to_string()), a.clone());
                }
                out.by_type.entry(ty.clone()).or_default().push(a);
            }
        }
        out
    }
}

/// A JSON document held as a string attribute, parsed (`Null` when absent or not JSON).
pub fn json_text(v: &Value) -> Value {
    v.as_str()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null)
}

/// Two JSON documents (event patterns, IAM policies) mean the same: key order aside, a
/// one-element list is its element, and lists of scalars are sets.
pub fn same_json(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

fn normalize(v: &Value) -> Value {
    match v {
        Value::Array(items) if items.len() == 1 => normalize(&items[0]),
        Value::Array(items) => {
            let mut n: Vec<Value> = items.iter().map(normalize).collect();
            if n.iter().all(|x| !x.is_object() && !x.is_array()) {
                n.sort_by_key(|x| x.to_string());
            }
            Value::Array(n)
        }
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

/// An IAM policy document as IAM returns it: URL-encoded JSON (as on AWS) or plain JSON.
pub fn policy_document(text: &str) -> Value {
    let decoded = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
    serde_json::from_str(&decoded)
        .or_else(|_| serde_json::from_str(text))
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use deploy_state::ResourceKind;
    use serde_json::json;

    use super::*;

    #[test]
    fn the_applied_attributes_are_read_from_terraform_state() {
        let state = json!({"version": 4, "resources": [
            {"mode": "managed", "type": "aws_cloudwatch_event_rule", "instances": [
                {"index_key": "a", "attributes": {"name": "dev-a", "state": "ENABLED",
                 "event_pattern": "{\"source\":[\"x\"]}"}}]},
            {"mode": "managed", "type": "aws_iam_role_policy", "instances": [
                {"attributes": {"name": "p2", "role": "dev-r", "policy": "{\"Version\":\"1\"}"}},
                {"attributes": {"name": "p1", "role": "dev-r", "policy": "{}"}}]},
            {"mode": "managed", "type": "aws_sqs_queue", "instances": [
                {"attributes": {"name": "dev-q", "message_retention_seconds": 1209600}}]},
            {"mode": "data", "type": "aws_iam_policy_document", "instances": [
                {"attributes": {"json": "{}"}}]}
        ]});
        let a = Applied::from_tfstate(&serde_json::to_vec(&state).unwrap());
        let rule = Resource::new(ResourceKind::Rule, "dev-a", "");
        assert_eq!(
            json_text(&a.of(&rule).unwrap()["event_pattern"]),
            json!({"source": ["x"]})
        );
        // A consumer queue and the dead-letter queue are both Terraform's `aws_sqs_queue`.
        let q = Resource::new(ResourceKind::ConsumerQueue, "dev-q", "");
        assert_eq!(a.of(&q).unwrap()["message_retention_seconds"], 1_209_600);
        let policies: Vec<&str> = a
            .all("aws_iam_role_policy")
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(policies, ["p2", "p1"]);
        assert_eq!(a.all("aws_iam_policy_document").count(), 0);
        assert!(Applied::from_tfstate(b"not json").is_empty());
    }

    #[test]
    fn documents_are_compared_by_meaning() {
        assert!(same_json(
            &json!({"Action": ["b", "a"], "Effect": "Allow"}),
            &json!({"Effect": "Allow", "Action": ["a", "b"]})
        ));
        assert!(same_json(
            &json!({"Action": ["a"]}),
            &json!({"Action": "a"})
        ));
        assert!(!same_json(
            &json!({"source": ["custom.a"]}),
            &json!({"source": ["custom.b"]})
        ));
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(policy_document(encoded), json!({"Version": "2012-10-17"}));
        assert_eq!(policy_document("{\"a\":1}"), json!({"a": 1}));
    }
}

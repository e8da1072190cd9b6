//! What the deployment should look like, for what Terraform owns: read from Terraform's state
//! (the attributes it last applied), so the live checks compare against the configuration and
//! not only against existence. `terraform plan -refresh-only` would say the same in ~3.5 s;
//! these are a handful of concurrent API calls.

use std::collections::HashMap;

use serde_json::Value;

/// The applied attributes a live check compares, by resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Want {
    Rule {
        pattern: Value,
        state: String,
    },
    /// A role's inline policies: name → document.
    Role {
        inline: Vec<(String, Value)>,
    },
    Queue {
        retention_seconds: Option<i64>,
    },
    Archive {
        retention_days: Option<i64>,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expected {
    by_resource: HashMap<(String, String), Want>,
    /// The ownership tags every taggable resource carries (empty: not checked).
    pub tags: std::collections::BTreeMap<String, String>,
}

impl Expected {
    pub fn get(&self, kind: &str, name: &str) -> Option<&Want> {
        self.by_resource.get(&(kind.to_string(), name.to_string()))
    }

    pub fn is_empty(&self) -> bool {
        self.by_resource.is_empty()
    }

    /// Reads `terraform.tfstate` (format version 4). Anything unreadable expects nothing.
    pub fn from_tfstate(bytes: &[u8]) -> Expected {
        let Ok(doc) = serde_json::from_slice::<Value>(bytes) else {
            return Expected::default();
        };
        let mut out = Expected::default();
        let mut inline: HashMap<String, Vec<(String, Value)>> = HashMap::new();
        let instances = doc["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["mode"] == "managed")
            .flat_map(|r| {
                let kind = r["type"].as_str().unwrap_or_default().to_string();
                r["instances"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(move |i| (kind.clone(), i["attributes"].clone()))
            });
        for (kind, a) in instances {
            let name = a["name"].as_str().unwrap_or_default().to_string();
            let want = match kind.as_str() {
                "aws_cloudwatch_event_rule" => Some((
                    "rule",
                    Want::Rule {
                        pattern: json_text(&a["event_pattern"]),
                        state: a["state"].as_str().unwrap_or("ENABLED").to_string(),
                    },
                )),
                "aws_sqs_queue" => Some((
                    "queue",
                    Want::Queue {
                        retention_seconds: a["message_retention_seconds"].as_i64(),
                    },
                )),
                "aws_cloudwatch_event_archive" => Some((
                    "archive",
                    Want::Archive {
                        retention_days: a["retention_days"].as_i64(),
                    },
                )),
                "aws_iam_role_policy" => {
                    let role = a["role"].as_str().unwrap_or_default().to_string();
                    inline
                        .entry(role)
                        .or_default()
                        .push((name.clone(), json_text(&a["policy"])));
                    None
                }
                _ => None,
            };
            if let Some((k, w)) = want {
                // A queue is the dead-letter queue or a route's consumer queue.
                if k == "queue" {
                    out.by_resource
                        .insert(("consumer-queue".to_string(), name.clone()), w.clone());
                }
                out.by_resource.insert((k.to_string(), name), w);
            }
        }
        for (role, mut policies) in inline {
            policies.sort_by(|a, b| a.0.cmp(&b.0));
            out.by_resource
                .insert(("role".into(), role), Want::Role { inline: policies });
        }
        out
    }
}

/// A JSON document held as a string attribute, parsed (`Null` when absent or not JSON).
fn json_text(v: &Value) -> Value {
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
    use super::*;
    use serde_json::json;

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
        let e = Expected::from_tfstate(&serde_json::to_vec(&state).unwrap());
        assert_eq!(
            e.get("rule", "dev-a"),
            Some(&Want::Rule {
                pattern: json!({"source": ["x"]}),
                state: "ENABLED".into()
            })
        );
        match e.get("role", "dev-r") {
            Some(Want::Role { inline }) => {
                let names: Vec<&str> = inline.iter().map(|(n, _)| n.as_str()).collect();
                assert_eq!(names, ["p1", "p2"]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            e.get("queue", "dev-q"),
            Some(&Want::Queue {
                retention_seconds: Some(1_209_600)
            })
        );
        assert!(Expected::from_tfstate(b"not json").is_empty());
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

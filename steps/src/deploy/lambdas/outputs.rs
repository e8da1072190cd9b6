//! The infrastructure step's outputs that the `lambdas` and `test-events` steps use.

use std::collections::BTreeMap;

use deploy_state::Fingerprint;

use crate::engine::StepError;

/// Terraform outputs recorded by the `infrastructure` step: strings as-is, lists and maps
/// JSON-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfraOutputs {
    pub bus_name: String,
    pub bus_arn: String,
    pub processor_role_arn: String,
    pub dlq_url: String,
    pub dlq_arn: String,
    pub rule_names: Vec<String>,
    /// Rule name → rule ARN.
    pub rule_arns: BTreeMap<String, String>,
}

/// The keys read, in the order they are fingerprinted.
const USED: [&str; 7] = [
    "event_bus_name",
    "event_bus_arn",
    "event_processor_role_arn",
    "dlq_url",
    "dlq_arn",
    "rule_names",
    "rule_arns",
];

impl InfraOutputs {
    pub fn parse(outputs: &BTreeMap<String, String>) -> Result<Self, StepError> {
        let get = |key: &str| -> Result<String, StepError> {
            outputs
                .get(key)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| {
                    StepError::permanent(format!(
                        "the infrastructure step recorded no `{key}` output"
                    ))
                    .with_hint("run `deploy run infrastructure` first")
                })
        };
        let rule_names: Vec<String> = json(&get("rule_names")?, "rule_names")?;
        let rule_arns: BTreeMap<String, String> = json(&get("rule_arns")?, "rule_arns")?;
        Ok(InfraOutputs {
            bus_name: get("event_bus_name")?,
            bus_arn: get("event_bus_arn")?,
            processor_role_arn: get("event_processor_role_arn")?,
            dlq_url: get("dlq_url")?,
            dlq_arn: get("dlq_arn")?,
            rule_names,
            rule_arns,
        })
    }

    /// The ARN of a rule of this stack, by name.
    pub fn rule_arn(&self, name: &str) -> Option<&str> {
        self.rule_arns.get(name).map(String::as_str)
    }
}

fn json<T: serde::de::DeserializeOwned>(text: &str, key: &str) -> Result<T, StepError> {
    serde_json::from_str(text).map_err(|e| {
        StepError::permanent(format!(
            "the infrastructure output `{key}` is not valid JSON: {e}"
        ))
        .with_hint("re-run `deploy run infrastructure`")
    })
}

/// Adds the used outputs (as recorded, absent ones as empty) to a fingerprint.
pub fn fingerprint_outputs(fp: Fingerprint, outputs: &BTreeMap<String, String>) -> Fingerprint {
    USED.iter().fold(fp, |fp, key| {
        fp.text(
            &format!("infrastructure/{key}"),
            outputs.get(*key).map(String::as_str).unwrap_or(""),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample() -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for (k, v) in [
            ("event_bus_name", "dev-application-events"),
            (
                "event_bus_arn",
                "arn:aws:events:us-east-1:1:event-bus/dev-application-events",
            ),
            (
                "event_processor_role_arn",
                "arn:aws:iam::1:role/dev-event-processor-role",
            ),
            ("dlq_url", "http://q/dev-eventbridge-dlq"),
            ("dlq_arn", "arn:aws:sqs:us-east-1:1:dev-eventbridge-dlq"),
            ("rule_names", "[\"dev-a\",\"dev-all-events-to-logger\"]"),
            (
                "rule_arns",
                "{\"dev-a\":\"arn:a\",\"dev-all-events-to-logger\":\"arn:rule/b/dev-all-events-to-logger\"}",
            ),
        ] {
            m.insert(k.to_string(), v.to_string());
        }
        m
    }

    #[test]
    fn parses_outputs_and_names_a_missing_one() {
        let mut m = sample();
        let o = InfraOutputs::parse(&m).unwrap();
        assert_eq!(o.rule_names.len(), 2);
        assert_eq!(o.rule_arn("dev-a"), Some("arn:a"));
        assert!(
            o.rule_arn("dev-all-events-to-logger")
                .unwrap()
                .ends_with("logger")
        );
        m.remove("dlq_arn");
        let e = InfraOutputs::parse(&m).unwrap_err();
        assert!(e.message.contains("`dlq_arn`"), "{e}");
        assert!(!e.is_transient());
    }

    #[test]
    fn fingerprint_follows_used_outputs_only() {
        let m = sample();
        let a = fingerprint_outputs(Fingerprint::new(), &m);
        let mut n = m.clone();
        n.insert("archive_name".into(), "x".into());
        assert_eq!(a, fingerprint_outputs(Fingerprint::new(), &n));
        n.insert("dlq_arn".into(), "other".into());
        let b = fingerprint_outputs(Fingerprint::new(), &n);
        assert_eq!(b.changed_since(a.components()), ["infrastructure/dlq_arn"]);
    }
}

//! The outputs steps record in the ledger, as types: the one place that reads them back. The
//! ledger keeps one string per output (lists and maps as JSON, as Terraform's `output -json`
//! gives them to the infrastructure step); later steps, `replay`, `pre-destroy` and `deploy
//! outputs` read them through [`Infrastructure`].

use std::collections::BTreeMap;

use deploy_state::{Fingerprint, LedgerState, ResourceKind};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::engine::StepError;

/// The Terraform outputs the `infrastructure` step recorded (an absent one is empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Infrastructure {
    pub event_bus_name: String,
    pub event_bus_arn: String,
    pub event_publisher_role_arn: String,
    pub event_processor_role_arn: String,
    pub dlq_role_arn: String,
    pub dlq_name: String,
    pub dlq_url: String,
    pub dlq_arn: String,
    pub archive_name: String,
    pub archive_arn: String,
    #[serde(deserialize_with = "json_in_text")]
    pub rule_names: Vec<String>,
    /// Rule name → rule ARN.
    #[serde(deserialize_with = "json_in_text")]
    pub rule_arns: BTreeMap<String, String>,
}

/// The outputs the `lambdas` and `test-events` steps need, in the order they are
/// fingerprinted.
const USED: [&str; 7] = [
    "event_bus_name",
    "event_bus_arn",
    "event_processor_role_arn",
    "dlq_url",
    "dlq_arn",
    "rule_names",
    "rule_arns",
];

impl Infrastructure {
    /// What was recorded, leniently: absent outputs are empty.
    pub fn recorded(outputs: &BTreeMap<String, String>) -> Result<Self, StepError> {
        let map = serde_json::to_value(outputs).expect("strings serialize");
        serde_json::from_value(map).map_err(|e| {
            StepError::permanent(format!("the infrastructure outputs are not readable: {e}"))
                .with_hint("re-run `deploy run infrastructure`")
        })
    }

    /// What the `lambdas` and `test-events` steps need: each of those outputs present.
    pub fn required(outputs: &BTreeMap<String, String>) -> Result<Self, StepError> {
        if let Some(key) = USED
            .iter()
            .find(|k| outputs.get(**k).is_none_or(String::is_empty))
        {
            return Err(StepError::permanent(format!(
                "the infrastructure step recorded no `{key}` output"
            ))
            .with_hint("run `deploy run infrastructure` first"));
        }
        Infrastructure::recorded(outputs)
    }

    /// The ARN of a rule of this stack, by name.
    pub fn rule_arn(&self, name: &str) -> Option<&str> {
        self.rule_arns.get(name).map(String::as_str)
    }
}

/// What the next job needs from the deployment, by name (`deploy outputs`, `--outputs-file`,
/// `$GITHUB_OUTPUT`): strings, or name → ARN maps (`rules`, `functions`).
pub fn deployment(state: &LedgerState) -> BTreeMap<String, Value> {
    let recorded = state.step("infrastructure").outputs;
    let infra = Infrastructure::recorded(&recorded).unwrap_or_default();
    let mut out = BTreeMap::new();
    for (name, value) in [
        ("bus_name", &infra.event_bus_name),
        ("bus_arn", &infra.event_bus_arn),
        ("archive_name", &infra.archive_name),
        ("archive_arn", &infra.archive_arn),
        ("dlq_name", &infra.dlq_name),
        ("dlq_url", &infra.dlq_url),
        ("dlq_arn", &infra.dlq_arn),
        ("publisher_role_arn", &infra.event_publisher_role_arn),
        ("processor_role_arn", &infra.event_processor_role_arn),
        ("dlq_role_arn", &infra.dlq_role_arn),
    ] {
        if !value.is_empty() {
            out.insert(name.to_string(), Value::String(value.clone()));
        }
    }
    if recorded.contains_key("rule_arns") {
        out.insert("rules".into(), json!(infra.rule_arns));
    }
    let functions: serde_json::Map<String, Value> = state
        .resources(ResourceKind::Function)
        .filter_map(|f| Some((f.name.clone(), Value::String(f.arn.clone()?))))
        .collect();
    if !functions.is_empty() {
        out.insert("functions".into(), Value::Object(functions));
    }
    out
}

/// A list or map recorded as JSON text (empty text: empty).
fn json_in_text<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    let text = String::deserialize(d)?;
    if text.is_empty() {
        return Ok(T::default());
    }
    serde_json::from_str(&text).map_err(D::Error::custom)
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
        let o = Infrastructure::required(&m).unwrap();
        assert_eq!(o.rule_names.len(), 2);
        assert_eq!(o.rule_arn("dev-a"), Some("arn:a"));
        assert!(
            o.rule_arn("dev-all-events-to-logger")
                .unwrap()
                .ends_with("logger")
        );
        m.remove("dlq_arn");
        let e = Infrastructure::required(&m).unwrap_err();
        assert!(e.message.contains("`dlq_arn`"), "{e}");
        assert!(!e.is_transient());
    }

    #[test]
    fn lists_and_maps_are_read_from_their_json_and_absent_ones_are_empty() {
        let mut m = sample();
        m.insert("archive_name".into(), "dev-event-archive".into());
        let o = Infrastructure::recorded(&m).unwrap();
        assert_eq!(o.rule_names, ["dev-a", "dev-all-events-to-logger"]);
        assert_eq!(o.archive_name, "dev-event-archive");
        assert_eq!(o.archive_arn, "");
        let none = Infrastructure::recorded(&BTreeMap::new()).unwrap();
        assert!(none.rule_names.is_empty() && none.event_bus_name.is_empty());
        m.insert("rule_names".into(), "not json".into());
        let e = Infrastructure::recorded(&m).unwrap_err();
        assert!(e.message.contains("not readable"), "{e}");
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

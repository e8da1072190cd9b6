//! Questions that many live checks share, asked once per [`super::check_all`]: every rule of a
//! bus is in one paged `ListRules` (state, pattern and ARN), every target of a rule in one paged
//! `ListTargetsByRule`, every permission of a function in its one resource policy. With a hundred
//! routes this is the difference between a few hundred requests and a few.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::aws::{AwsClients, AwsError, describe, error_code, is_not_found};
use crate::engine::ErrorClass;

/// Why a lookup has no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// AWS says it does not exist.
    NotFound,
    /// The call failed otherwise: existence is unknown. `transient` when asking again later
    /// may answer (throttling, 5xx, a dropped connection, after the SDK's own attempts).
    Failed { why: String, transient: bool },
}

/// An SDK result as a lookup result.
pub fn sdk<T, E>(result: Result<T, AwsError<E>>) -> Result<T, Miss>
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    result.map_err(|e| {
        if is_not_found(&e) {
            Miss::NotFound
        } else {
            let (class, detail) = describe(&e);
            let why = error_code(&e).map_or(detail, str::to_string);
            Miss::Failed {
                why,
                transient: class == ErrorClass::Transient,
            }
        }
    })
}

/// A rule as `ListRules` describes it.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub arn: String,
    pub state: String,
    pub pattern: Option<String>,
}

type Cell<V> = Arc<OnceCell<Result<V, Miss>>>;
type Memo<K, V> = Mutex<HashMap<K, Cell<V>>>;

fn cell<K: Eq + Hash, V>(memo: &Memo<K, V>, key: K) -> Cell<V> {
    memo.lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default()
        .clone()
}

#[derive(Default)]
pub struct Lookups {
    /// Per bus: its rules by name.
    rules: Memo<String, HashMap<String, RuleInfo>>,
    /// Per (rule, bus): the ids of its targets.
    targets: Memo<(String, String), Vec<String>>,
    /// Per function (and alias): its resource policy (empty when it has none).
    policies: Memo<(String, Option<String>), String>,
}

impl Lookups {
    pub async fn rule(&self, aws: &AwsClients, name: &str, bus: &str) -> Result<RuleInfo, Miss> {
        let rules = cell(&self.rules, bus.to_string());
        let rules = rules.get_or_init(|| list_rules(aws, bus)).await;
        match rules {
            Ok(all) => all.get(name).cloned().ok_or(Miss::NotFound),
            Err(e) => Err(e.clone()),
        }
    }

    pub async fn target_ids(
        &self,
        aws: &AwsClients,
        rule: &str,
        bus: &str,
    ) -> Result<Vec<String>, Miss> {
        let ids = cell(&self.targets, (rule.to_string(), bus.to_string()));
        ids.get_or_init(|| async {
            sdk(crate::aws::rule_targets(&aws.events, rule, bus).await)
                .map(|ts| ts.iter().map(|t| t.id().to_string()).collect())
        })
        .await
        .clone()
    }

    /// The resource policy of `function` (of its alias `qualifier`).
    pub async fn policy(
        &self,
        aws: &AwsClients,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<String, Miss> {
        let key = (function.to_string(), qualifier.map(str::to_string));
        let policy = cell(&self.policies, key);
        policy
            .get_or_init(|| async {
                let got = aws
                    .lambda
                    .get_policy()
                    .function_name(function)
                    .set_qualifier(qualifier.map(str::to_string))
                    .send()
                    .await;
                sdk(got).map(|o| o.policy().unwrap_or_default().to_string())
            })
            .await
            .clone()
    }
}

/// Every rule on `bus`, following `NextToken` to the last page.
async fn list_rules(aws: &AwsClients, bus: &str) -> Result<HashMap<String, RuleInfo>, Miss> {
    let mut out = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = sdk(aws
            .events
            .list_rules()
            .event_bus_name(bus)
            .set_next_token(token.take())
            .send()
            .await)?;
        for r in page.rules() {
            let Some(name) = r.name() else { continue };
            out.insert(
                name.to_string(),
                RuleInfo {
                    arn: r.arn().unwrap_or_default().to_string(),
                    state: r
                        .state()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    pattern: r.event_pattern().map(str::to_string),
                },
            );
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

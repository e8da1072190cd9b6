//! What a deployment owns: each resource's kind, name and the few attributes that identify it.
//!
//! The kinds are an enum (serialized as the names older ledgers used: `event-bus`, `rule`, ...);
//! what each kind *is* to AWS (how to look it up, tag, find, adopt, delete it) lives in the
//! resource catalog of the steps crate, one module per kind.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The kinds of resource a deployment makes, stored (and shown) under the names older ledgers
/// used (`event-bus`, `rule`, ...). Adding one: a variant here, and a module in the catalog
/// (`steps/src/catalog/`) registered in its `of`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::EnumIter,
    strum::IntoStaticStr,
    strum::Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ResourceKind {
    EventBus,
    Rule,
    /// A rule's target (identified by its rule and its id).
    Target,
    Archive,
    /// The dead-letter queue.
    Queue,
    /// A queue a route delivers to.
    ConsumerQueue,
    Role,
    /// The inline policy the `iam` step puts on the deploying IAM user.
    UserPolicy,
    Function,
    /// A statement in a function's resource policy letting a rule invoke it.
    Permission,
    EventSourceMapping,
    /// A name for one published version of a function.
    Alias,
    LogGroup,
    SchemaRegistry,
    /// The temporary rule of a test-events or replay probe.
    ProbeRule,
    /// The temporary queue of a probe.
    ProbeQueue,
}

impl ResourceKind {
    /// Every kind, in declaration order.
    pub fn all() -> impl Iterator<Item = ResourceKind> {
        <ResourceKind as strum::IntoEnumIterator>::iter()
    }

    /// The name the ledger and the output use (`event-bus`).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Whether it is a temporary piece of a probe (not part of what a deployment serves).
    pub fn is_probe(self) -> bool {
        matches!(self, ResourceKind::ProbeRule | ResourceKind::ProbeQueue)
    }
}

/// What identifies a resource besides its kind and name, and what its checks need. Each kind
/// uses the fields its catalog module documents; the others stay empty. Stored as a flat map
/// (`{"bus": "..."}`), as older ledgers wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Attributes {
    /// The bus of a rule, target, probe rule or archive.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "event_bus")]
    pub bus: Option<String>,
    /// The rule of a target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The function of a permission or an event-source mapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The IAM user of a user policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A queue's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A function's runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// The rule a permission lets invoke its function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_arn: Option<String>,
    /// The queue an event-source mapping reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source_arn: Option<String>,
    /// The alias a permission is granted on (`live`); none: the unqualified function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    /// The version an alias points at (what it points at, not what identifies it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where an alias's failed asynchronous invocations go (its on-failure destination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// An alias's asynchronous retry attempts (0-2), as deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub async_retry_attempts: Option<u32>,
    /// An alias's asynchronous maximum event age (seconds), as deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub async_max_event_age_seconds: Option<u32>,
    /// Terraform's address of a resource a plan would create (never stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl Attributes {
    pub fn is_empty(&self) -> bool {
        *self == Attributes::default()
    }
}

/// A resource this deployment created and therefore may delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub kind: ResourceKind,
    pub name: String,
    pub arn: Option<String>,
    /// The step that created it.
    pub created_by: String,
    pub recorded_at: Timestamp,
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub attributes: Attributes,
}

impl Resource {
    pub fn new(kind: ResourceKind, name: &str, created_by: &str) -> Self {
        Resource {
            kind,
            name: name.to_string(),
            arn: None,
            created_by: created_by.to_string(),
            recorded_at: Timestamp::now(),
            attributes: Attributes::default(),
        }
    }

    pub fn with_arn(mut self, arn: impl Into<String>) -> Self {
        self.arn = Some(arn.into());
        self
    }

    /// Sets attributes: `r.with(|a| a.bus = Some(bus))`.
    pub fn with(mut self, set: impl FnOnce(&mut Attributes)) -> Self {
        set(&mut self.attributes);
        self
    }

    pub fn on_bus(self, bus: impl Into<String>) -> Self {
        let bus = bus.into();
        self.with(|a| a.bus = Some(bus))
    }

    /// The bus of a rule, target or archive (empty when not recorded: the default bus).
    pub fn bus(&self) -> &str {
        self.attributes.bus.as_deref().unwrap_or_default()
    }

    /// Whether `other` is the same resource: kind, name and the attributes that identify it
    /// (an alias's version and destination say what it points at, not which alias it is).
    pub fn same_identity(&self, other: &Resource) -> bool {
        let identifying = |a: &Attributes| Attributes {
            version: None,
            destination: None,
            ..a.clone()
        };
        self.kind == other.kind
            && self.name == other.name
            && identifying(&self.attributes) == identifying(&other.attributes)
    }

    /// `kind name`, as the output names a resource.
    pub fn label(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stored_under_the_names_older_ledgers_used() {
        for kind in ResourceKind::all() {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
            assert_eq!(serde_json::from_str::<ResourceKind>(&json).unwrap(), kind);
        }
    }

    #[test]
    fn an_alias_pointed_elsewhere_is_the_same_alias() {
        let alias = |v: &str| {
            Resource::new(ResourceKind::Alias, "live", "lambdas").with(|a| {
                a.function = Some("f".into());
                a.version = Some(v.into());
            })
        };
        assert!(alias("1").same_identity(&alias("2")));
        let other = alias("1").with(|a| a.function = Some("g".into()));
        assert!(!alias("1").same_identity(&other));
    }

    #[test]
    fn attributes_read_the_flat_map_of_older_ledgers() {
        let old = r#"{"kind":"target","name":"1","arn":null,"created_by":"lambdas",
            "recorded_at":"2026-11-01T00:00:00Z","attributes":{"rule":"r","event_bus":"b"}}"#;
        let r: Resource = serde_json::from_str(old).unwrap();
        assert_eq!(r.kind, ResourceKind::Target);
        assert_eq!(r.attributes.rule.as_deref(), Some("r"));
        assert_eq!(r.bus(), "b");
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(
            back["attributes"],
            serde_json::json!({"rule": "r", "bus": "b"})
        );
        let bare = Resource::new(ResourceKind::Role, "x", "iam");
        assert!(
            serde_json::to_value(&bare)
                .unwrap()
                .get("attributes")
                .is_none()
        );
    }
}

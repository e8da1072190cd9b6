//! The resource catalog: what each kind of AWS resource a deployment owns *is* to AWS, one
//! module per kind (as terraform-provider-aws keeps one file per resource type, and aws-nuke one
//! per type it removes).
//!
//! Each module implements [`Kind`]: look it up (exists, works), compare it with what was applied
//! (drift), read and write its ownership tags, recognise it in the Tagging API's answers or find
//! it otherwise, the id Terraform imports it by (adoption), delete it ("already gone" is
//! success), and which kinds must go before it. Live checks, discovery, adoption, pre-destroy,
//! destroy by discovery and the probes all ask the catalog: deleting a kind is written once, in
//! its module.
//!
//! Adding a kind: a variant of [`ResourceKind`], a module here, and its line in [`of`].

mod alias;
mod applied;
mod archive;
mod bus;
mod function;
mod health;
mod log_group;
pub mod lookups;
mod mapping;
mod permission;
mod queue;
mod role;
mod rule;
mod schema_registry;
mod target;
mod user_policy;

use std::collections::BTreeMap;

use async_trait::async_trait;
use deploy_state::{Resource, ResourceKind};

pub use applied::{Applied, policy_document, same_json};
pub use health::{Health, state_in};
pub use log_group::{function_log_group, tagged_log_group};
pub use lookups::{Lookups, Miss, sdk};
pub use permission::remove_permission;
pub use queue::{Depth, depth as queue_depth, depth_at as queue_depth_at, queue_url};
pub use target::{Emptied, remove_all_targets};

use crate::aws::{AwsClients, AwsError, is_not_found, sdk_error};
use crate::engine::StepError;

/// Tag key → value.
pub type Tags = BTreeMap<String, String>;

/// What a look-up or a check can reach: the clients, and the answers shared by every check of
/// one pass (one `ListRules` per bus, ...).
pub struct Cx<'a> {
    pub aws: &'a AwsClients,
    pub lookups: &'a Lookups,
}

/// What a deletion found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    Deleted,
    /// It did not exist (any more): done all the same.
    AlreadyGone,
}

impl Gone {
    pub fn deleted(self) -> bool {
        self == Gone::Deleted
    }

    /// `deleted` / `was already gone`, for the step log.
    pub fn describe(self) -> &'static str {
        match self {
            Gone::Deleted => "deleted",
            Gone::AlreadyGone => "was already gone",
        }
    }
}

/// An ARN, split where the kinds need it: `arn:aws:<service>:<region>:<account>:<resource>`.
#[derive(Debug, Clone, Copy)]
pub struct Arn<'a> {
    pub whole: &'a str,
    pub service: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(arn: &'a str) -> Option<Arn<'a>> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        Some(Arn {
            whole: arn,
            service: parts.get(2)?,
            resource: parts.get(5)?,
        })
    }
}

/// One kind of resource, as AWS knows it.
#[async_trait]
pub trait Kind: Send + Sync {
    /// The AWS resource type (CloudFormation's name): kinds with the same type are the same
    /// thing to AWS (the dead-letter queue and a consumer queue are both `AWS::SQS::Queue`).
    fn aws_type(&self) -> &'static str;

    /// The Terraform resource type, for the kinds the stack makes.
    fn terraform_type(&self) -> Option<&'static str> {
        None
    }

    /// The kinds that must be deleted before this one (what uses it), as AWS enforces.
    fn after(&self) -> &'static [ResourceKind] {
        &[]
    }

    /// Whether it exists, and whether it works.
    async fn look_up(&self, cx: &Cx<'_>, r: &Resource) -> Health;

    /// How `r`, which exists, differs from what was applied.
    async fn drift(
        &self,
        _cx: &Cx<'_>,
        _r: &Resource,
        _applied: &Applied,
        _h: &Health,
    ) -> Vec<String> {
        Vec::new()
    }

    /// What it looks like now, for a fingerprint that tells when it changed behind a reviewed
    /// plan's back (by default: whether it exists and what its look-up says).
    async fn describe(&self, cx: &Cx<'_>, r: &Resource) -> serde_json::Value {
        let h = self.look_up(cx, r).await;
        serde_json::json!({"exists": h.exists, "detail": h.detail})
    }

    /// The tags it carries; `None` when the kind carries none, or they cannot be read.
    async fn tags(&self, _cx: &Cx<'_>, _r: &Resource) -> Option<Tags> {
        None
    }

    /// Whether its ownership tags are checked by the live checks.
    fn checks_tags(&self) -> bool {
        false
    }

    /// Writes `tags` on it (the kinds that carry tags).
    async fn tag(&self, _aws: &AwsClients, _r: &Resource, _tags: &Tags) -> Result<(), StepError> {
        Ok(())
    }

    /// The resource a Tagging API ARN names, when it is of this kind.
    fn recognise(&self, _arn: Arn<'_>) -> Option<Resource> {
        None
    }

    /// The resources of this kind carrying `tags` that the Tagging API does not list (roles on
    /// AWS; archives, which carry no tags, by the buses `found` so far).
    async fn find(
        &self,
        _aws: &AwsClients,
        _tags: &Tags,
        _found: &[Resource],
    ) -> Result<Vec<Resource>, StepError> {
        Ok(Vec::new())
    }

    /// Whether `r` provably belongs to the deployment whose ownership tags are `tags`.
    async fn proven_ours(&self, cx: &Cx<'_>, r: &Resource, tags: &Tags) -> bool {
        self.tags(cx, r)
            .await
            .is_some_and(|found| carries(&found, tags))
    }

    /// The id `terraform import` takes for it.
    async fn import_id(&self, _aws: &AwsClients, r: &Resource) -> Result<String, StepError> {
        Ok(r.name.clone())
    }

    /// Deletes it (and what only exists inside it); "already gone" is success.
    async fn delete(&self, aws: &AwsClients, r: &Resource) -> Result<Gone, StepError>;
}

/// The module of `kind`.
pub fn of(kind: ResourceKind) -> &'static dyn Kind {
    match kind {
        ResourceKind::EventBus => &bus::Bus,
        ResourceKind::Rule => &rule::Rule::ROUTE,
        ResourceKind::ProbeRule => &rule::Rule::PROBE,
        ResourceKind::Target => &target::Target,
        ResourceKind::Archive => &archive::Archive,
        ResourceKind::Queue => &queue::Queue::DEAD_LETTER,
        ResourceKind::ConsumerQueue => &queue::Queue::CONSUMER,
        ResourceKind::ProbeQueue => &queue::Queue::PROBE,
        ResourceKind::Role => &role::Role,
        ResourceKind::UserPolicy => &user_policy::UserPolicy,
        ResourceKind::Function => &function::Function,
        ResourceKind::Permission => &permission::Permission,
        ResourceKind::EventSourceMapping => &mapping::Mapping,
        ResourceKind::Alias => &alias::Alias,
        ResourceKind::LogGroup => &log_group::LogGroup,
        ResourceKind::SchemaRegistry => &schema_registry::SchemaRegistry,
    }
}

/// Whether `tags` include every one of `ours`, with the same values.
pub fn carries(tags: &Tags, ours: &Tags) -> bool {
    ours.iter().all(|(k, v)| tags.get(k) == Some(v))
}

/// Whether `a` and `b` are the same AWS resource (a consumer queue found by its ARN is a queue).
pub fn same_resource(a: &Resource, b: &Resource) -> bool {
    a.name == b.name && of(a.kind).aws_type() == of(b.kind).aws_type()
}

/// Whether `list` holds `r` (the same AWS resource).
pub fn holds(list: &[Resource], r: &Resource) -> bool {
    list.iter().any(|o| same_resource(o, r))
}

/// How deep in the deletion order `kind` is: 0 for what nothing must precede, else one more
/// than the deepest of what must go before it.
pub fn depth(kind: ResourceKind) -> usize {
    of(kind)
        .after()
        .iter()
        .map(|&k| depth(k) + 1)
        .max()
        .unwrap_or(0)
}

/// Sorts `resources` into an order AWS accepts for deleting them.
pub fn deletion_order(resources: &mut [Resource]) {
    resources.sort_by_key(|r| (depth(r.kind), r.kind));
}

/// Deletes `r` through its kind's module.
pub async fn delete(aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
    of(r.kind).delete(aws, r).await
}

/// A deletion's answer: `Deleted`, or `AlreadyGone` when AWS says there is no such thing.
pub(crate) fn gone<T, E>(what: &str, result: Result<T, AwsError<E>>) -> Result<Gone, StepError>
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(_) => Ok(Gone::Deleted),
        Err(e) if is_not_found(&e) => Ok(Gone::AlreadyGone),
        Err(e) => Err(sdk_error(what, e)),
    }
}

/// Tags as the SDKs list them (key/value pairs) into a map.
pub(crate) fn tag_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Tags {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests;

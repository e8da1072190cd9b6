//! Finding a deployment in AWS rather than in its state: by its ownership tags (what `deploy
//! adopt`, `deploy destroy --discover` and the orphan report of `status --live` and `plan`
//! stand on), and by the names its configuration gives (what exists where no state says so).
//!
//! The Resource Groups Tagging API covers buses, rules, queues, functions, event-source mappings
//! and log groups; each kind's catalog module recognises its ARNs, and finds what the API does
//! not list (roles on AWS; archives, through their bus).

use deploy_config::Config;
use deploy_state::{LedgerState, Resource, ResourceKind};

use crate::aws::{AwsClients, sdk_error};
use crate::catalog::{self, Arn, Tags, carries};
use crate::engine::StepError;
use crate::live;
use crate::ownership::{named_resources, ownership_tags};

/// Every resource in the account and region that carries this deployment's tags.
pub async fn tagged(aws: &AwsClients, config: &Config) -> Result<Vec<Resource>, StepError> {
    let tags = ownership_tags(config);
    let mut found = tagged_by_api(aws, &tags).await?;
    for kind in ResourceKind::all() {
        let more = catalog::of(kind).find(aws, &tags, &found).await?;
        found.extend(more);
    }
    found.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    found.dedup_by(|a, b| catalog::same_resource(a, b));
    Ok(found)
}

async fn tagged_by_api(aws: &AwsClients, tags: &Tags) -> Result<Vec<Resource>, StepError> {
    use aws_sdk_resourcegroupstagging::types::TagFilter;
    let mut req = aws.tagging.get_resources();
    for (k, v) in tags {
        req = req.tag_filters(TagFilter::builder().key(k).values(v).build());
    }
    let mut pages = req.into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("tag:GetResources", e))?;
        for m in page.resource_tag_mapping_list() {
            // The filter is the API's; the check is ours (an emulator may be lenient).
            let found = catalog::tag_map(m.tags().iter().map(|t| (t.key(), t.value())));
            if carries(&found, tags)
                && let Some(r) = m.resource_arn().and_then(from_arn)
            {
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// The resource an ARN names, for the kinds this deployment makes.
pub fn from_arn(arn: &str) -> Option<Resource> {
    let arn = Arn::parse(arn)?;
    ResourceKind::all().find_map(|k| catalog::of(k).recognise(arn))
}

/// What carries this deployment's tags outside its inventory: what `deploy adopt` takes over.
pub async fn adoptable(
    aws: &AwsClients,
    config: &Config,
    state: &LedgerState,
) -> Result<Vec<Resource>, StepError> {
    Ok(tagged(aws, config)
        .await?
        .into_iter()
        .filter(|r| !catalog::holds(&state.inventory, r))
        .collect())
}

/// What carries this deployment's tags but its state neither owns nor remembers destroying
/// (that is reported as "still present" instead).
pub async fn orphans(
    aws: &AwsClients,
    config: &Config,
    state: &LedgerState,
) -> Result<Vec<Resource>, StepError> {
    let mut found = adoptable(aws, config, state).await?;
    found.retain(|r| !catalog::holds(&state.retired, r));
    Ok(found)
}

/// Those of `candidates` that exist (checked concurrently, with the live checks' patience for
/// answers that failed for a transient reason).
pub async fn existing(aws: &AwsClients, candidates: &[Resource]) -> Vec<Resource> {
    live::check_all(aws, candidates, &catalog::Applied::default())
        .await
        .into_iter()
        .zip(candidates)
        .filter(|(h, _)| h.exists == Some(true))
        .map(|(_, r)| r.clone())
        .collect()
}

/// What exists with this deployment's names, whoever made it.
pub async fn by_name(aws: &AwsClients, config: &Config) -> Vec<Resource> {
    existing(aws, &named_resources(config)).await
}

/// What a look through the API found for a deployment whose state is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WithoutState {
    /// None of the deployment's `checked` names exist.
    Nothing { checked: usize },
    /// These resources carry the deployment's names.
    Named(Vec<Resource>),
}

/// Looks for the deployment's names in AWS: no state is not proof that nothing is deployed.
pub async fn without_state(aws: &AwsClients, config: &Config) -> WithoutState {
    let names = named_resources(config);
    let found = existing(aws, &names).await;
    if found.is_empty() {
        WithoutState::Nothing {
            checked: names.len(),
        }
    } else {
        WithoutState::Named(found)
    }
}

/// What `destroy --discover` would remove (carries the tags), and what has the deployment's
/// names without its tags (left alone).
pub async fn for_removal(
    aws: &AwsClients,
    config: &Config,
) -> Result<(Vec<Resource>, Vec<Resource>), StepError> {
    let ours = tagged(aws, config).await?;
    let foreign = by_name(aws, config)
        .await
        .into_iter()
        .filter(|r| !catalog::holds(&ours, r))
        .collect();
    Ok((ours, foreign))
}

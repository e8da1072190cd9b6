//! The live side of a plan: a digest of what each resource the plan changes, replaces or deletes
//! looks like now, so a resource edited behind the plan's back makes the plan stale.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Touched;
use tokio::task::JoinSet;

use crate::aws::AwsClients;
use crate::catalog::{self, Cx, Lookups};

/// `kind name` → digest of its live description, for each of `touched`.
pub async fn fingerprints(aws: &AwsClients, touched: &[Touched]) -> BTreeMap<String, String> {
    let lookups = Arc::new(Lookups::default());
    let mut set = JoinSet::new();
    for r in touched.iter().map(Touched::resource) {
        let (aws, lookups) = (aws.clone(), lookups.clone());
        set.spawn(async move {
            let cx = Cx {
                aws: &aws,
                lookups: &lookups,
            };
            let described = catalog::of(r.kind).describe(&cx, &r).await;
            let bytes = serde_json::to_vec(&described).expect("json serializes");
            (r.label(), deploy_state::fingerprint::sha256_hex(&bytes))
        });
    }
    set.join_all().await.into_iter().collect()
}

/// The resources whose live fingerprint differs from the plan's, one line each.
pub fn drifted(planned: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> Vec<String> {
    planned
        .iter()
        .filter(|(label, digest)| now.get(*label) != Some(digest))
        .map(|(label, _)| {
            format!("{label} changed in AWS since the plan (it is one the plan touches)")
        })
        .collect()
}

//! Live health of what the deployment owns, with the same per-resource checks as `status
//! --live` and the engine's skip check (one function per resource kind, in `crate::live`).

use std::time::Instant;

use deploy_state::LedgerState;

use super::probe::{PROBE_QUEUE, PROBE_RULE};
use super::results::Check;
use crate::aws::AwsClients;
use crate::env::Env;
use crate::live;

pub async fn checks(env: &Env, aws: &AwsClients, state: &LedgerState) -> Vec<Check> {
    let t = Instant::now();
    let owned: Vec<_> = state
        .inventory
        .iter()
        .filter(|r| r.kind != PROBE_RULE && r.kind != PROBE_QUEUE)
        .cloned()
        .collect();
    live::check_all(aws, &owned, &env.expected().await)
        .await
        .into_iter()
        .map(|h| {
            Check::timed(
                format!("health: {} {}", h.kind, h.name),
                t,
                h.exists == Some(true) && h.healthy,
                h.detail,
            )
        })
        .collect()
}

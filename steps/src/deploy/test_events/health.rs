//! Live health of what the deployment owns, with the same per-resource checks as `status
//! --live` and the engine's skip check (one module per resource kind, in `crate::catalog`).

use std::time::Instant;

use deploy_state::{LedgerState, Resource};

use super::results::Check;
use crate::aws::AwsClients;
use crate::env::Env;
use crate::live;

pub async fn checks(env: &Env, aws: &AwsClients, state: &LedgerState) -> Vec<Check> {
    let t = Instant::now();
    let owned: Vec<Resource> = live::served(state).cloned().collect();
    live::check_all(aws, &owned, &env.applied().await)
        .await
        .into_iter()
        .map(|h| {
            Check::timed(
                format!("health: {}", h.label()),
                t,
                h.exists == Some(true) && h.healthy,
                h.detail,
            )
        })
        .collect()
}

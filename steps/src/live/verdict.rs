//! The verdict of `deploy status --live`: every owned resource checked, what the last teardown
//! deleted looked for again, and what carries the deployment's tags outside its state.

use deploy_state::{LedgerState, Resource};
use serde::Serialize;

use super::{Applied, Health, check_all};
use crate::discover;
use crate::engine::StepError;
use crate::env::Env;

/// One word for the whole deployment. What could not be checked is unknown, never degraded
/// (nor healthy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    #[serde(rename = "healthy")]
    Healthy,
    /// Something exists but does not work (a dead-letter queue holding messages).
    #[serde(rename = "degraded")]
    Degraded,
    /// Something is missing, differs from what was applied, is present though destroyed, or
    /// carries the deployment's tags outside its state.
    #[serde(rename = "drifted")]
    Drifted,
    /// Some checks could not be made, and nothing was found wrong.
    #[serde(rename = "unknown")]
    Unknown,
    #[serde(rename = "nothing deployed")]
    NothingDeployed,
}

/// What the live checks found.
#[derive(Debug, Clone)]
pub struct Report {
    pub verdict: Verdict,
    /// Every owned resource, in inventory order.
    pub owned: Vec<Health>,
    /// Resources the last teardown deleted that exist again.
    pub lingering: Vec<Health>,
    /// Resources that carry the deployment's tags but are not in its state.
    pub orphans: Vec<Resource>,
    /// Why orphans could not be looked for, if they could not.
    pub orphans_unknown: Option<String>,
}

impl Report {
    pub fn missing(&self) -> impl Iterator<Item = &Health> {
        self.owned.iter().filter(|h| h.exists == Some(false))
    }

    pub fn unhealthy(&self) -> impl Iterator<Item = &Health> {
        self.owned
            .iter()
            .filter(|h| h.exists == Some(true) && !h.healthy)
    }

    pub fn drifted(&self) -> impl Iterator<Item = &Health> {
        self.owned.iter().filter(|h| !h.drift.is_empty())
    }

    pub fn unknown(&self) -> impl Iterator<Item = &Health> {
        self.owned.iter().filter(|h| h.exists.is_none())
    }

    fn judge(&mut self, nothing_owned: bool) {
        self.verdict = if self.missing().next().is_some()
            || !self.lingering.is_empty()
            || self.drifted().next().is_some()
            || !self.orphans.is_empty()
        {
            Verdict::Drifted
        } else if self.unhealthy().next().is_some() {
            Verdict::Degraded
        } else if self.unknown().next().is_some() {
            Verdict::Unknown
        } else if nothing_owned {
            Verdict::NothingDeployed
        } else {
            Verdict::Healthy
        };
    }
}

/// Checks what `state` owns and what it retired against AWS, and looks for orphans.
pub async fn report(env: &Env, state: &LedgerState) -> Result<Report, StepError> {
    let aws = env.aws().await?;
    let (applied, nothing) = (env.applied().await, Applied::default());
    let (owned, retired, orphans) = tokio::join!(
        check_all(aws, &state.inventory, &applied),
        check_all(aws, &state.retired, &nothing),
        discover::orphans(aws, &env.config, state)
    );
    let (orphans, orphans_unknown) = match orphans {
        Ok(o) => (o, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let mut report = Report {
        verdict: Verdict::Unknown,
        owned,
        lingering: retired
            .into_iter()
            .filter(|h| h.exists == Some(true))
            .collect(),
        orphans,
        orphans_unknown,
    };
    report.judge(state.inventory.is_empty());
    Ok(report)
}

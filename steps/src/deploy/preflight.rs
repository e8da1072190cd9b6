//! The `preflight` step: check tools, credentials, region, disk and sources.

use async_trait::async_trait;
use deploy_state::Fingerprint;

use crate::engine::{Step, StepContext, StepError};
use crate::env::Env;

pub struct Preflight;

#[async_trait]
impl Step for Preflight {
    fn name(&self) -> &'static str {
        "preflight"
    }

    fn number(&self) -> &'static str {
        "001"
    }

    fn description(&self) -> &'static str {
        "check tools, credentials, region, disk and sources"
    }

    fn critical(&self) -> bool {
        true
    }

    async fn fingerprint(&self, env: &Env) -> Result<Fingerprint, StepError> {
        Ok(Fingerprint::new().text(crate::engine::TARGET_COMPONENT, &env.target))
    }

    async fn run(&self, _ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        Err(StepError::permanent("the preflight step is not implemented yet"))
    }
}

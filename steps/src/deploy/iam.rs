//! The `iam` step: grant the deploying principal what the deployment needs.

use async_trait::async_trait;
use deploy_state::Fingerprint;

use crate::engine::{Step, StepContext, StepError};
use crate::env::Env;

pub struct Iam;

#[async_trait]
impl Step for Iam {
    fn name(&self) -> &'static str {
        "iam"
    }

    fn number(&self) -> &'static str {
        "010"
    }

    fn description(&self) -> &'static str {
        "grant the deploying principal what the deployment needs"
    }

    fn critical(&self) -> bool {
        true
    }

    async fn fingerprint(&self, env: &Env) -> Result<Fingerprint, StepError> {
        Ok(Fingerprint::new().text(crate::engine::TARGET_COMPONENT, &env.target))
    }

    async fn run(&self, _ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        Err(StepError::permanent("the iam step is not implemented yet"))
    }
}

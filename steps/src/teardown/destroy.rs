//! The `destroy` step: terraform destroy, verify, remove the IAM policy and local files.

use async_trait::async_trait;
use deploy_state::Fingerprint;

use crate::engine::{Step, StepContext, StepError};
use crate::env::Env;

pub struct Destroy;

#[async_trait]
impl Step for Destroy {
    fn name(&self) -> &'static str {
        "destroy"
    }

    fn number(&self) -> &'static str {
        "999"
    }

    fn description(&self) -> &'static str {
        "terraform destroy, verify, remove the IAM policy and local files"
    }

    fn critical(&self) -> bool {
        true
    }

    async fn fingerprint(&self, env: &Env) -> Result<Fingerprint, StepError> {
        Ok(Fingerprint::new().text(crate::engine::TARGET_COMPONENT, &env.target))
    }

    async fn run(&self, _ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        Err(StepError::permanent(
            "the destroy step is not implemented yet",
        ))
    }
}

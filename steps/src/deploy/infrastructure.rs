//! The `infrastructure` step: apply the Terraform stack (bus, rules, archive, queue, roles).

use async_trait::async_trait;
use deploy_state::Fingerprint;

use crate::engine::{Step, StepContext, StepError};
use crate::env::Env;

pub struct Infrastructure;

#[async_trait]
impl Step for Infrastructure {
    fn name(&self) -> &'static str {
        "infrastructure"
    }

    fn number(&self) -> &'static str {
        "020"
    }

    fn description(&self) -> &'static str {
        "apply the Terraform stack (bus, rules, archive, queue, roles)"
    }

    fn critical(&self) -> bool {
        true
    }

    async fn fingerprint(&self, env: &Env) -> Result<Fingerprint, StepError> {
        Ok(Fingerprint::new().text(crate::engine::TARGET_COMPONENT, &env.target))
    }

    async fn run(&self, _ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        Err(StepError::permanent("the infrastructure step is not implemented yet"))
    }
}

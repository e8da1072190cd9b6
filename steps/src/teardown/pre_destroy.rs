//! The `pre-destroy` step: remove targets and functions this deployment owns.

use async_trait::async_trait;
use deploy_state::Fingerprint;

use crate::engine::{Step, StepContext, StepError};
use crate::env::Env;

pub struct PreDestroy;

#[async_trait]
impl Step for PreDestroy {
    fn name(&self) -> &'static str {
        "pre-destroy"
    }

    fn number(&self) -> &'static str {
        "998"
    }

    fn description(&self) -> &'static str {
        "remove targets and functions this deployment owns"
    }

    fn critical(&self) -> bool {
        true
    }

    async fn fingerprint(&self, env: &Env) -> Result<Fingerprint, StepError> {
        Ok(Fingerprint::new().text(crate::engine::TARGET_COMPONENT, &env.target))
    }

    async fn run(&self, _ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        Err(StepError::permanent("the pre-destroy step is not implemented yet"))
    }
}

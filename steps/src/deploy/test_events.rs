//! The `test-events` step: publish sample events and prove they were delivered.

use async_trait::async_trait;
use deploy_state::Fingerprint;

use crate::engine::{Step, StepContext, StepError};
use crate::env::Env;

pub struct TestEvents;

#[async_trait]
impl Step for TestEvents {
    fn name(&self) -> &'static str {
        "test-events"
    }

    fn number(&self) -> &'static str {
        "050"
    }

    fn description(&self) -> &'static str {
        "publish sample events and prove they were delivered"
    }

    fn critical(&self) -> bool {
        false
    }

    async fn fingerprint(&self, env: &Env) -> Result<Fingerprint, StepError> {
        Ok(Fingerprint::new().text(crate::engine::TARGET_COMPONENT, &env.target))
    }

    async fn run(&self, _ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        Err(StepError::permanent("the test-events step is not implemented yet"))
    }
}

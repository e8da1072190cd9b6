//! The `lambdas` step: package and deploy the Lambda functions and wire them up.

use async_trait::async_trait;
use deploy_state::Fingerprint;

use crate::engine::{Step, StepContext, StepError};
use crate::env::Env;

pub struct Lambdas;

#[async_trait]
impl Step for Lambdas {
    fn name(&self) -> &'static str {
        "lambdas"
    }

    fn number(&self) -> &'static str {
        "040"
    }

    fn description(&self) -> &'static str {
        "package and deploy the Lambda functions and wire them up"
    }

    fn critical(&self) -> bool {
        false
    }

    async fn fingerprint(&self, env: &Env) -> Result<Fingerprint, StepError> {
        Ok(Fingerprint::new().text(crate::engine::TARGET_COMPONENT, &env.target))
    }

    async fn run(&self, _ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        Err(StepError::permanent("the lambdas step is not implemented yet"))
    }
}

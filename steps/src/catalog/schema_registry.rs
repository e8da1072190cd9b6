//! The schema registry (`AWS::EventSchemas::Registry`), made and removed by Terraform. This tool
//! has no client for the Schemas API (no emulator serves it), so its existence is unknown to the
//! live checks rather than assumed.

use async_trait::async_trait;
use deploy_state::Resource;

use super::{Cx, Gone, Health, Kind};
use crate::aws::AwsClients;
use crate::engine::StepError;

pub struct SchemaRegistry;

#[async_trait]
impl Kind for SchemaRegistry {
    fn aws_type(&self) -> &'static str {
        "AWS::EventSchemas::Registry"
    }

    fn terraform_type(&self) -> Option<&'static str> {
        Some("aws_schemas_registry")
    }

    async fn look_up(&self, _cx: &Cx<'_>, r: &Resource) -> Health {
        let mut h = Health::of(r);
        h.healthy = true;
        h.detail = "not checked".into();
        h
    }

    async fn delete(&self, _aws: &AwsClients, r: &Resource) -> Result<Gone, StepError> {
        Err(StepError::permanent(format!(
            "schema registry {}: removed by `terraform destroy`, not by this tool",
            r.name
        )))
    }
}

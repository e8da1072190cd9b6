//! The environment every step runs in: configuration, AWS clients (made on first use), the
//! identity of the AWS endpoint, the ledger directory, and the cancellation token.

use std::path::PathBuf;

use deploy_config::Config;
use std::sync::Arc;

use deploy_state::backend::Objects;
use deploy_state::{TERRAFORM_STATE, TerraformBackend};
use tokio::sync::OnceCell;

use crate::aws::{self, AwsClients};
use crate::engine::{Cancel, StepError};

pub struct Env {
    pub config: Config,
    /// This machine's directory for the deployment: Terraform's working directory lives here.
    /// (The deployment's state itself is reached only through the ledger.)
    pub local_dir: PathBuf,
    /// Where Terraform keeps the stack's state, as the state backend says.
    pub terraform_backend: TerraformBackend,
    /// The deployment's objects, read-only here (the live checks read what Terraform applied).
    pub state: Option<Arc<dyn Objects>>,
    /// Names the AWS endpoint the deployment lives in: the real AWS region, or the emulator
    /// process (kind, port, pid, start time). Part of every AWS-facing step's fingerprint, so a
    /// restarted emulator (whose state is gone) re-runs those steps.
    pub target: String,
    pub cancel: Cancel,
    /// What the operator allowed this run to lose or replace.
    pub consent: crate::change::Consent,
    /// Terraform's saved plan from a reviewed plan artifact (`deploy all --plan`): applied as it
    /// is instead of planning again.
    pub saved_plan: Option<Vec<u8>>,
    aws: OnceCell<AwsClients>,
}

impl Env {
    pub fn new(
        config: Config,
        local_dir: PathBuf,
        terraform_backend: TerraformBackend,
        target: String,
        cancel: Cancel,
    ) -> Self {
        Env {
            config,
            local_dir,
            terraform_backend,
            state: None,
            target,
            cancel,
            consent: Default::default(),
            saved_plan: None,
            aws: OnceCell::new(),
        }
    }

    /// What Terraform last applied, for the live checks to compare against (nothing when there
    /// is no Terraform state).
    pub async fn applied(&self) -> crate::catalog::Applied {
        let applied = match &self.state {
            Some(objects) => objects.read(TERRAFORM_STATE).await.ok().flatten(),
            None => None,
        };
        let mut e = applied
            .map(|o| crate::catalog::Applied::from_tfstate(&o.bytes))
            .unwrap_or_default();
        e.tags = crate::ownership::ownership_tags(&self.config);
        e
    }

    /// How many AWS requests had to be sent again so far (the SDK's retries).
    pub fn api_retries(&self) -> u64 {
        self.aws.get().map_or(0, |c| c.attempts.retries())
    }

    /// The AWS clients, made on first use.
    pub async fn aws(&self) -> Result<&AwsClients, StepError> {
        self.aws
            .get_or_try_init(|| async {
                let sdk = aws::sdk_config(&self.config).await;
                Ok(AwsClients::new(sdk))
            })
            .await
    }

    /// Environment variables for subprocesses (terraform) so they reach the same endpoint with
    /// the same credentials as the SDK clients.
    pub fn subprocess_env(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            ("AWS_REGION".to_string(), self.config.project.region.clone()),
            (
                "AWS_DEFAULT_REGION".to_string(),
                self.config.project.region.clone(),
            ),
        ];
        if let Some(url) = &self.config.aws.endpoint_url {
            vars.push(("AWS_ENDPOINT_URL".into(), url.clone()));
        }
        if let Some(p) = &self.config.aws.profile {
            vars.push(("AWS_PROFILE".into(), p.clone()));
        }
        if self.config.local && !aws::env_has_credentials() && self.config.aws.profile.is_none() {
            vars.push(("AWS_ACCESS_KEY_ID".into(), aws::LOCAL_ACCESS_KEY.into()));
            vars.push(("AWS_SECRET_ACCESS_KEY".into(), aws::LOCAL_ACCESS_KEY.into()));
        }
        vars
    }
}

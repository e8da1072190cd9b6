//! What of the hub is in AWS: the routes and consumer queues Terraform last applied.

use std::collections::BTreeMap;
use std::path::Path;

use deploy_state::Ledger;
use deploy_state::backend::Objects;
use serde::{Deserialize, Serialize};

use crate::engine::StepError;
use crate::terraform::TfVars;
use crate::terraform::tfvars::{self, TfRoute};

/// The document of the deployment's state that holds it.
pub use deploy_state::HUB_DOCUMENT;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedHub {
    pub routes: BTreeMap<String, TfRoute>,
    pub consumer_queues: BTreeMap<String, String>,
    /// A digest of the stack's files and all the variables applied: when the next run's are
    /// the same, what Terraform changes is a repair of drift, not a change of configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl AppliedHub {
    pub fn of(vars: &TfVars) -> AppliedHub {
        AppliedHub {
            routes: vars.routes.clone(),
            consumer_queues: vars.consumer_queues.clone(),
            digest: None,
        }
    }

    /// With the digest of what `vars` and the stack in `stack_dir` apply.
    pub fn with_digest(mut self, stack_dir: &Path, vars: &TfVars) -> AppliedHub {
        self.digest = digest(stack_dir, vars);
        self
    }

    /// What was last applied: the document in the state, or else (a deployment made before it
    /// was kept) the variables last written to this machine's working directory.
    pub async fn load(objects: &dyn Objects, local_dir: &Path) -> Option<AppliedHub> {
        if let Ok(Some(o)) = objects.read(HUB_DOCUMENT).await
            && let Ok(hub) = serde_json::from_slice(&o.bytes)
        {
            return Some(hub);
        }
        let written = local_dir.join("terraform").join(tfvars::FILE_NAME);
        let bytes = std::fs::read(written).ok()?;
        let vars: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        Some(AppliedHub {
            routes: serde_json::from_value(vars["routes"].clone()).ok()?,
            consumer_queues: serde_json::from_value(vars["consumer_queues"].clone()).ok()?,
            digest: None,
        })
    }

    /// Whether `vars` with the stack in `stack_dir` are what was applied last.
    pub fn is_applied(&self, stack_dir: &Path, vars: &TfVars) -> bool {
        self.digest.is_some() && self.digest == digest(stack_dir, vars)
    }

    /// Records what is applied now.
    pub async fn save(&self, ledger: &Ledger) -> Result<(), StepError> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("plain data serializes");
        bytes.push(b'\n');
        ledger.put_document(HUB_DOCUMENT, &bytes).await?;
        Ok(())
    }
}

/// The stack's files and the variables, as one digest (`None` when the stack cannot be read).
fn digest(stack_dir: &Path, vars: &TfVars) -> Option<String> {
    let fp = deploy_state::Fingerprint::new()
        .files(
            "terraform",
            stack_dir,
            crate::terraform::workdir::STACK_EXTENSIONS,
        )
        .ok()?
        .bytes("tfvars", &vars.to_json());
    Some(fp.digest())
}

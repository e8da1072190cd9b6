//! The deployment identity: (account, region, project, environment). A ledger belongs to one.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Who a ledger belongs to. The account is learnt from STS the first time a command reaches
/// AWS, and checked on every later one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentId {
    pub project: String,
    pub environment: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl DeploymentId {
    pub fn new(project: &str, environment: &str, region: &str) -> Self {
        DeploymentId {
            project: project.to_string(),
            environment: environment.to_string(),
            region: region.to_string(),
            account: None,
        }
    }

    /// The name of its directory under a local state root: `<project>-<environment>-<region>`.
    pub fn slug(&self) -> String {
        format!("{}-{}-{}", self.project, self.environment, self.region)
    }

    /// Same project, environment and region (the account is compared on its own).
    pub fn same_deployment(&self, other: &DeploymentId) -> bool {
        self.project == other.project
            && self.environment == other.environment
            && self.region == other.region
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} in {}",
            self.project, self.environment, self.region
        )?;
        if let Some(a) = &self.account {
            write!(f, " (account {a})")?;
        }
        Ok(())
    }
}

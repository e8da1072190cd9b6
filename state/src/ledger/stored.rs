//! What is kept beside the ledger: the logs for people, step logs, result documents, and
//! Terraform's state (read, to know whether anything is left to destroy).

use super::Ledger;
use crate::backend::{Precondition, TERRAFORM_STATE};
use crate::error::LedgerError;
use crate::journal::{self, Level};

impl Ledger {
    /// Appends to the human-readable logs. Never fails the caller: a log line is not worth
    /// aborting a deployment for. The counts are saved with the next write.
    pub async fn log(&mut self, level: Level, step: Option<&str>, message: &str) {
        match level {
            Level::Info => {}
            Level::Warn => self.state.log_counts.warnings += 1,
            Level::Error => self.state.log_counts.errors += 1,
        }
        self.backend
            .journal(level, &journal::format_line(level, step, message))
            .await;
    }

    /// Makes a step log (a path relative to [`Ledger::local_dir`]) part of the state.
    pub async fn publish_log(&self, name: &str) -> Result<(), LedgerError> {
        self.backend.publish_log(name).await
    }

    /// The latest log of `step`: its location and content.
    pub async fn step_log(&self, step: &str) -> Result<Option<(String, Vec<u8>)>, LedgerError> {
        let Some(name) = self.step(step).log else {
            return Ok(None);
        };
        Ok(self
            .backend
            .read(&name)
            .await?
            .map(|o| (self.backend.locate(&name), o.bytes)))
    }

    /// Stores a result document of a step (e.g. `test-results.json`) with the state.
    pub async fn put_document(&self, name: &str, bytes: &[u8]) -> Result<String, LedgerError> {
        self.backend.write(name, bytes, Precondition::None).await?;
        Ok(self.backend.locate(name))
    }

    pub async fn document(&self, name: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self.backend.read(name).await?.map(|o| o.bytes))
    }

    /// Removes a document stored with the state (nothing to remove is not an error).
    pub async fn delete_document(&self, name: &str) -> Result<(), LedgerError> {
        self.backend.delete(name).await
    }

    /// How many resources Terraform's state for this deployment holds (0 when there is none).
    pub async fn terraform_resource_count(&self) -> Result<usize, LedgerError> {
        let Some(obj) = self.backend.read(TERRAFORM_STATE).await? else {
            return Ok(0);
        };
        let value: serde_json::Value = serde_json::from_slice(&obj.bytes).map_err(|e| {
            LedgerError::storage(self.backend.locate(TERRAFORM_STATE), e.to_string())
        })?;
        Ok(value["resources"].as_array().map_or(0, Vec::len))
    }
}

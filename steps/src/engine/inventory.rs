//! Where code that creates resources hands each one as soon as it exists, so that a run killed
//! right after a create still leaves it in the deployment's inventory.

use async_trait::async_trait;
use deploy_state::{Ledger, Resource};

use super::error::StepError;
use super::step::StepContext;

#[async_trait]
pub trait Inventory: Send {
    async fn record(&mut self, resource: Resource) -> Result<(), StepError>;
}

/// A running step records what it creates as its own.
#[async_trait]
impl Inventory for StepContext<'_> {
    async fn record(&mut self, resource: Resource) -> Result<(), StepError> {
        StepContext::record(self, resource).await
    }
}

/// A ledger a command holds outside any step, noting what it recorded (to forget it after).
pub struct LedgerInventory<'a> {
    ledger: &'a mut Ledger,
    recorded: Vec<Resource>,
}

impl<'a> LedgerInventory<'a> {
    pub fn new(ledger: &'a mut Ledger) -> Self {
        LedgerInventory {
            ledger,
            recorded: Vec::new(),
        }
    }

    /// What was recorded, oldest first.
    pub fn recorded(self) -> Vec<Resource> {
        self.recorded
    }
}

#[async_trait]
impl Inventory for LedgerInventory<'_> {
    async fn record(&mut self, resource: Resource) -> Result<(), StepError> {
        self.recorded.push(resource.clone());
        self.ledger
            .record_resource(resource)
            .await
            .map_err(|e| StepError::permanent(e.to_string()))
    }
}

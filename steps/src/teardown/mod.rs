//! The teardown pipeline's steps, and what decides whether there is anything to tear down.

pub mod destroy;
pub mod discovered;
pub mod pre_destroy;
mod routes;

use deploy_state::{Ledger, LedgerError};

/// Why there is nothing to tear down, if there is nothing: no owned resource in the ledger and
/// no resource in Terraform's state.
pub async fn nothing_to_destroy(ledger: &Ledger) -> Result<Option<String>, LedgerError> {
    let state = ledger.state();
    if !state.inventory.is_empty() || ledger.terraform_resource_count().await? > 0 {
        return Ok(None);
    }
    Ok(Some(match state.destroyed_at {
        Some(at) => format!(
            "the deployment was already destroyed at {at}{}",
            state
                .destroyed_by
                .as_ref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default()
        ),
        None => "nothing is deployed".to_string(),
    }))
}

/// Whether an interrupted `destroy --discover` left resources to finish removing.
pub fn discovery_unfinished(ledger: &Ledger) -> bool {
    ledger
        .state()
        .inventory
        .iter()
        .any(|r| r.created_by == discovered::STEP)
}

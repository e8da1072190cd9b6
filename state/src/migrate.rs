//! Moving a deployment's state from one backend to another (`deploy state migrate`), without
//! redeploying: the ledger, the whole audit log, the step logs, the documents and Terraform's
//! state are copied; the source is then retired (renamed, never deleted), so that exactly one
//! location is the truth.

use crate::backend::{
    AuditLog, HUB_DOCUMENT, Objects, Precondition, ROLLBACK_DOCUMENTS, TERRAFORM_STATE,
};
use crate::error::LedgerError;
use crate::ledger::{AUDIT_FILE, RESULTS_FILE, STATE_FILE};

/// What a migration carried over.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Copied {
    pub audit_entries: usize,
    pub logs: usize,
    pub terraform_state: bool,
}

/// Copies everything of a deployment from `src` to `dst`, which must hold no ledger. Both
/// should be locked by the caller.
pub async fn copy_deployment<S, D>(src: &S, dst: &D) -> Result<Copied, LedgerError>
where
    S: Objects + AuditLog + ?Sized,
    D: Objects + AuditLog + ?Sized,
{
    let Some(state) = src.read(STATE_FILE).await? else {
        return Err(LedgerError::storage(
            src.location(),
            "there is no ledger here to migrate",
        ));
    };
    if dst.read(STATE_FILE).await?.is_some() {
        return Err(LedgerError::storage(
            dst.location(),
            "a ledger is already there; nothing was copied (migrate into an empty location)",
        ));
    }
    let mut copied = Copied::default();
    for (i, line) in src.read_audit().await?.into_iter().enumerate() {
        dst.append_audit(i as u64 + 1, &line).await?;
        copied.audit_entries += 1;
    }
    for name in src.list("logs/").await? {
        if let Some(obj) = src.read(&name).await? {
            dst.write(&name, &obj.bytes, Precondition::None).await?;
            copied.logs += 1;
        }
    }
    // The documents: what the hub last applied and the rollback's records go with the state,
    // or the next run would take every change for a first one and have no last good deployment.
    let mut documents: Vec<String> = [RESULTS_FILE, TERRAFORM_STATE, HUB_DOCUMENT]
        .map(String::from)
        .to_vec();
    documents.extend(src.list(ROLLBACK_DOCUMENTS).await?);
    for name in &documents {
        if let Some(obj) = src.read(name).await? {
            dst.write(name, &obj.bytes, Precondition::None).await?;
            copied.terraform_state |= name == TERRAFORM_STATE;
        }
    }
    // Last: the ledger makes the destination the deployment's state.
    dst.write(STATE_FILE, &state.bytes, Precondition::Absent)
        .await?;
    Ok(copied)
}

/// Moves the source's ledger, audit log and Terraform state under `migrated-to-<where>/`, so
/// that a later run pointed at the old location finds no state there (and looks in AWS before
/// saying anything) instead of a stale one.
pub async fn retire_source<S: Objects + ?Sized>(src: &S, to: &str) -> Result<(), LedgerError> {
    let mut names = vec![
        STATE_FILE.to_string(),
        AUDIT_FILE.to_string(),
        TERRAFORM_STATE.to_string(),
    ];
    names.extend(src.list("audit/").await?);
    for name in names {
        if let Some(obj) = src.read(&name).await? {
            src.write(
                &format!("migrated-to-{to}/{name}"),
                &obj.bytes,
                Precondition::None,
            )
            .await?;
            src.delete(&name).await?;
        }
    }
    Ok(())
}

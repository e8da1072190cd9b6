//! Moving a deployment's state from one backend to another (`deploy state migrate`), without
//! redeploying: the ledger, the whole audit log, the step logs, the documents and Terraform's
//! state are copied; the source is then retired (renamed, never deleted), so that exactly one
//! location is the truth.

use crate::backend::{Backend, Precondition, TERRAFORM_STATE};
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
pub fn copy_deployment(src: &dyn Backend, dst: &dyn Backend) -> Result<Copied, LedgerError> {
    let Some(state) = src.read(STATE_FILE)? else {
        return Err(LedgerError::storage(
            src.location(),
            "there is no ledger here to migrate",
        ));
    };
    if dst.read(STATE_FILE)?.is_some() {
        return Err(LedgerError::storage(
            dst.location(),
            "a ledger is already there; nothing was copied (migrate into an empty location)",
        ));
    }
    let mut copied = Copied::default();
    for (i, line) in src.read_audit()?.into_iter().enumerate() {
        dst.append_audit(i as u64 + 1, &line)?;
        copied.audit_entries += 1;
    }
    for name in src.list("logs/")? {
        if let Some(obj) = src.read(&name)? {
            dst.write(&name, &obj.bytes, Precondition::None)?;
            copied.logs += 1;
        }
    }
    for name in [RESULTS_FILE, TERRAFORM_STATE] {
        if let Some(obj) = src.read(name)? {
            dst.write(name, &obj.bytes, Precondition::None)?;
            copied.terraform_state |= name == TERRAFORM_STATE;
        }
    }
    // Last: the ledger makes the destination the deployment's state.
    dst.write(STATE_FILE, &state.bytes, Precondition::Absent)?;
    Ok(copied)
}

/// Moves the source's ledger, audit log and Terraform state under `migrated-to-<where>/`, so
/// that a later run pointed at the old location finds no state there (and looks in AWS before
/// saying anything) instead of a stale one.
pub fn retire_source(src: &dyn Backend, to: &str) -> Result<(), LedgerError> {
    let mut names = vec![
        STATE_FILE.to_string(),
        AUDIT_FILE.to_string(),
        TERRAFORM_STATE.to_string(),
    ];
    names.extend(src.list("audit/")?);
    for name in names {
        if let Some(obj) = src.read(&name)? {
            src.write(
                &format!("migrated-to-{to}/{name}"),
                &obj.bytes,
                Precondition::None,
            )?;
            src.delete(&name)?;
        }
    }
    Ok(())
}

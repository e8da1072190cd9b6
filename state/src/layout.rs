//! The layout of a local state root: one directory per deployment,
//! `<root>/<project>-<environment>-<region>/`, and the move from the flat layout of earlier
//! releases (one ledger directly in the root) into it.

use std::path::{Path, PathBuf};

use crate::deployment::DeploymentId;
use crate::emulator_record;
use crate::error::LedgerError;
use crate::ledger::{AUDIT_FILE, STATE_FILE};
use crate::lock::{self, LockHolder};
use crate::status::EmulatorRecord;

/// What a flat-layout ledger holds that belongs to the deployment (moved into its directory).
const LEGACY_ENTRIES: &[&str] = &[
    STATE_FILE,
    AUDIT_FILE,
    "deployment.log",
    "errors.log",
    "warnings.log",
    "logs",
    "terraform",
    "test-results.json",
];

/// A ledger in the flat layout, found directly in a state root.
#[derive(Debug, Clone)]
pub struct LegacyLedger {
    pub root: PathBuf,
    /// The deployment it belongs to, as its Terraform variables say (absent after a teardown,
    /// which removes them).
    pub identity: Option<DeploymentId>,
}

/// The flat-layout ledger in `root`, if there is one.
pub fn find_legacy(root: &Path) -> Option<LegacyLedger> {
    if !root.join(STATE_FILE).is_file() && !root.join(AUDIT_FILE).is_file() {
        return None;
    }
    let identity = std::fs::read(root.join("terraform/terraform.tfvars.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            Some(DeploymentId::new(
                v["project_name"].as_str()?,
                v["environment"].as_str()?,
                v["region"].as_str()?,
            ))
        });
    Some(LegacyLedger {
        root: root.to_path_buf(),
        identity,
    })
}

/// Moves the flat-layout ledger in `legacy.root` into `target` (a deployment directory),
/// losing nothing: the state, the audit log, the logs, Terraform's working directory and
/// state. The emulator record it held goes to the root, where per-machine records live.
/// Returns what was moved.
pub fn migrate_legacy(legacy: &LegacyLedger, target: &Path) -> Result<Vec<String>, LedgerError> {
    let root = &legacy.root;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LedgerError::Io {
            path: path.clone(),
            source,
        }
    };
    // Keep out a run of the earlier release, which locks the flat ledger.
    let me = LockHolder::current("deploy (moving the ledger into its deployment directory)");
    let (held, _) = lock::acquire_now(&root.join(crate::backend::local::LOCK_FILE), &me)?;
    if target.join(STATE_FILE).exists() {
        return Err(LedgerError::storage(
            target.display().to_string(),
            format!(
                "a ledger of the earlier flat layout is in {} and another one is already in this \
                 deployment's directory; move one of them away by hand",
                root.display()
            ),
        ));
    }
    crate::fsutil::private_dir(target).map_err(io(target))?;
    if let Some(emulator) = legacy_emulator(root) {
        emulator_record::save(root, Some(&emulator))?;
    }
    let mut moved = Vec::new();
    for name in LEGACY_ENTRIES {
        let from = root.join(name);
        if from.exists() {
            std::fs::rename(&from, target.join(name)).map_err(io(&from))?;
            moved.push(name.to_string());
        }
    }
    drop(held);
    let _ = std::fs::remove_file(root.join(crate::backend::local::LOCK_FILE));
    Ok(moved)
}

fn legacy_emulator(root: &Path) -> Option<EmulatorRecord> {
    let bytes = std::fs::read(root.join(STATE_FILE)).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    serde_json::from_value(v.get("emulator")?.clone()).ok()
}

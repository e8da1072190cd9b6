//! What belongs to this machine, not to the deployment: the emulator `deploy --local` started.
//! Kept in `emulator.json` under the local state root, never in the shared state.

use std::path::Path;

use crate::error::LedgerError;
use crate::fsutil;
use crate::status::EmulatorRecord;

pub const EMULATOR_FILE: &str = "emulator.json";

/// The emulator recorded under `root`, if any (an unreadable record counts as none).
pub fn load(root: &Path) -> Option<EmulatorRecord> {
    let bytes = std::fs::read(root.join(EMULATOR_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub fn save(root: &Path, record: Option<&EmulatorRecord>) -> Result<(), LedgerError> {
    let path = root.join(EMULATOR_FILE);
    let io = |source| LedgerError::Io {
        path: path.clone(),
        source,
    };
    match record {
        Some(r) => {
            fsutil::private_dir(root).map_err(io)?;
            let bytes = serde_json::to_vec_pretty(r).expect("emulator record serializes");
            fsutil::write_atomic(&path, &bytes).map_err(io)
        }
        None => match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(e)),
        },
    }
}

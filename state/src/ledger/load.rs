//! Reading a stored ledger and checking it: its schema, the deployment and the account it
//! belongs to. What cannot be read is never overwritten.

use jiff::Timestamp;

use super::{AUDIT_FILE, STATE_FILE};
use crate::backend::{Objects, Precondition, Version};
use crate::error::LedgerError;
use crate::status::{LedgerState, SCHEMA_VERSION};

/// Reads `state.json`; absent means empty. Never overwrites what it cannot read.
pub async fn load<B: Objects + ?Sized>(
    backend: &B,
) -> Result<(LedgerState, Option<Version>), LedgerError> {
    let Some(obj) = backend.read(STATE_FILE).await? else {
        return Ok((LedgerState::default(), None));
    };
    let state = parse_with(
        &backend.locate(STATE_FILE),
        &backend.locate(AUDIT_FILE),
        &obj.bytes,
    )?;
    Ok((state, Some(obj.version)))
}

/// Parses a ledger read from `location` (e.g. another deployment's, listed).
pub fn parse_state(location: &str, bytes: &[u8]) -> Result<LedgerState, LedgerError> {
    parse_with(location, "its audit log", bytes)
}

fn parse_with(location: &str, audit: &str, bytes: &[u8]) -> Result<LedgerState, LedgerError> {
    let location = location.to_string();
    let corrupt = |reason: String| LedgerError::Corrupt {
        location: location.clone(),
        audit: audit.to_string(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    let found = value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| corrupt("no schema_version".into()))? as u32;
    if found != SCHEMA_VERSION {
        return Err(LedgerError::SchemaVersion {
            location: location.clone(),
            found,
            expected: SCHEMA_VERSION,
        });
    }
    serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))
}

/// Keeps an unreadable `state.json` as `state.json.corrupt-<time>` and removes it.
pub(super) async fn set_aside<B: Objects + ?Sized>(backend: &B) -> Result<String, LedgerError> {
    let obj = backend
        .read(STATE_FILE)
        .await?
        .expect("only a stored state can be corrupt");
    let name = format!("{STATE_FILE}.corrupt-{}", Timestamp::now().as_second());
    backend.write(&name, &obj.bytes, Precondition::None).await?;
    backend.delete(STATE_FILE).await?;
    Ok(backend.locate(&name))
}

/// Refuses credentials of another account than the one `state` records.
pub fn check_account(
    state: &LedgerState,
    account: &str,
    location: &str,
) -> Result<(), LedgerError> {
    match state.identity.as_ref() {
        Some(id) if id.account.as_deref().is_some_and(|a| a != account) => {
            Err(LedgerError::AccountMismatch {
                location: location.to_string(),
                recorded: Box::new(id.clone()),
                recorded_account: id.account.clone().unwrap_or_default(),
                caller: account.to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// A new lineage: minted once, when a ledger is first written.
pub(super) fn new_lineage() -> String {
    let seed = format!(
        "{}-{}-{:?}",
        std::process::id(),
        Timestamp::now().as_nanosecond(),
        std::thread::current().id()
    );
    crate::fingerprint::sha256_hex(seed.as_bytes())[..32].to_string()
}

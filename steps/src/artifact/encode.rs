//! The artifact as one file: a zip holding `manifest.json`, Terraform's `tfplan` when there is
//! one, and `digest` (SHA-256 of the two), written deterministically (sorted entries, the zip
//! epoch as every timestamp, fixed modes and compression), so the same plan gives the same bytes.
//! A file edited by hand fails the digest check on reading.

use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use super::{Artifact, FORMAT, Manifest};
use crate::engine::StepError;

const MANIFEST: &str = "manifest.json";
const TFPLAN: &str = "tfplan";
const DIGEST: &str = "digest";

/// The artifact's bytes.
pub fn write(a: &Artifact) -> Vec<u8> {
    let mut manifest = serde_json::to_vec_pretty(&a.manifest).expect("a manifest serializes");
    manifest.push(b'\n');
    let digest = format!("{}\n", a.id());
    let mut entries: Vec<(&str, &[u8])> = vec![(DIGEST, digest.as_bytes()), (MANIFEST, &manifest)];
    if let Some(plan) = &a.tfplan {
        entries.push((TFPLAN, plan));
    }
    entries.sort_by_key(|(name, _)| *name);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        zip.start_file(name, options)
            .expect("an in-memory zip accepts a file");
        zip.write_all(bytes)
            .expect("an in-memory zip accepts bytes");
    }
    zip.finish()
        .expect("an in-memory zip finishes")
        .into_inner()
}

/// Reads an artifact, refusing one that is not a plan artifact of this format or whose content
/// does not match its digest (edited by hand).
pub fn read(bytes: &[u8]) -> Result<Artifact, StepError> {
    let not = |why: String| StepError::permanent(format!("not a plan artifact of deploy: {why}"));
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| not(e.to_string()))?;
    let mut entry = |name: &str| -> Result<Option<Vec<u8>>, StepError> {
        let Ok(mut f) = zip.by_name(name) else {
            return Ok(None);
        };
        let mut out = Vec::new();
        f.read_to_end(&mut out).map_err(|e| not(e.to_string()))?;
        Ok(Some(out))
    };
    let digest = entry(DIGEST)?.ok_or_else(|| not(format!("it has no {DIGEST}")))?;
    let manifest = entry(MANIFEST)?.ok_or_else(|| not(format!("it has no {MANIFEST}")))?;
    let tfplan = entry(TFPLAN)?;
    let manifest: Manifest = serde_json::from_slice(&manifest)
        .map_err(|e| StepError::permanent(format!("the artifact's manifest is unreadable: {e}")))?;
    if manifest.format != FORMAT {
        return Err(not(format!(
            "format {} (this deploy reads format {FORMAT})",
            manifest.format
        )));
    }
    let artifact = Artifact { manifest, tfplan };
    let recorded = String::from_utf8_lossy(&digest).trim().to_string();
    if recorded != artifact.id() {
        return Err(StepError::permanent(
            "the artifact was changed after it was made (its content does not match its digest)",
        ));
    }
    Ok(artifact)
}

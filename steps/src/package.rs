//! Deterministic Lambda packages: the same sources always give the same zip bytes, so the
//! package's SHA-256 can be compared with the deployed function's `CodeSha256`.
//!
//! Entries are sorted by path, every timestamp is the zip epoch (1980-01-01 00:00:00), every
//! mode is `0644`, the host system is recorded as Unix, no extra fields are written, and the
//! compression method and level are fixed. No `zip` or `npm` binary is involved.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System, ZipWriter};

/// File names (or suffixes) that belong in a package.
const INCLUDED_SUFFIXES: &[&str] = &[".mjs", ".cjs", ".js"];
const INCLUDED_NAMES: &[&str] = &["package.json"];
/// Directories that are never packaged (not needed at run time).
const SKIPPED_DIRS: &[&str] = &["test", "tests", "node_modules"];

/// A built package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub bytes: Vec<u8>,
    /// The archive's entries, in archive order (sorted, `/`-separated, relative to the source).
    pub entries: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} holds no *.mjs, *.cjs or *.js file to package")]
    Empty(PathBuf),
    #[error("{path}: building the zip failed: {message}")]
    Zip { path: PathBuf, message: String },
}

impl Package {
    /// SHA-256 of the archive, lower-case hex (for fingerprints and logs).
    pub fn sha256_hex(&self) -> String {
        deploy_state::fingerprint::sha256_hex(&self.bytes)
    }

    /// SHA-256 of the archive, standard base64: the form Lambda reports as `CodeSha256`.
    pub fn sha256_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&self.bytes))
    }
}

/// Whether a file at `rel` (relative to the function directory) goes into the package.
fn included(file_name: &str) -> bool {
    INCLUDED_NAMES.contains(&file_name)
        || (INCLUDED_SUFFIXES.iter().any(|s| file_name.ends_with(s))
            && !file_name.contains(".test."))
}

/// The files that go into the package, sorted, as (archive path, file path). Symbolic links
/// are followed: the package holds what they point at.
pub fn package_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, PackageError> {
    let files = deploy_state::fsutil::files(dir, true, |d| SKIPPED_DIRS.contains(&d)).map_err(
        |source| PackageError::Io {
            path: dir.to_path_buf(),
            source,
        },
    )?;
    Ok(files
        .into_iter()
        .filter(|rel| included(rel.rsplit('/').next().unwrap_or(rel)))
        .map(|rel| {
            let path = dir.join(&rel);
            (rel, path)
        })
        .collect())
}

/// Zips a function directory deterministically.
pub fn package_dir(dir: &Path) -> Result<Package, PackageError> {
    let files = package_files(dir)?;
    if !files
        .iter()
        .any(|(rel, _)| rel != "package.json" && !rel.ends_with("/package.json"))
    {
        return Err(PackageError::Empty(dir.to_path_buf()));
    }
    let mut contents = Vec::with_capacity(files.len());
    for (rel, path) in files {
        let bytes = std::fs::read(&path).map_err(|source| PackageError::Io { path, source })?;
        contents.push((rel, bytes));
    }
    let bytes = zip_entries(&contents).map_err(|e| PackageError::Zip {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(Package {
        bytes,
        entries: contents.into_iter().map(|(rel, _)| rel).collect(),
    })
}

/// Zips `(path, bytes)` entries in the given order with fixed metadata.
pub fn zip_entries(entries: &[(String, Vec<u8>)]) -> zip::result::ZipResult<Vec<u8>> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644)
        .system(System::Unix)
        .large_file(false);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        zip.start_file(name.as_str(), options)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample(dir: &Path) {
        std::fs::create_dir_all(dir.join("test")).unwrap();
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        std::fs::write(
            dir.join("index.mjs"),
            "export const handler = async () => 1;\n",
        )
        .unwrap();
        std::fs::write(dir.join("lib.mjs"), "export const x = 2;\n").unwrap();
        std::fs::write(dir.join("package.json"), "{\"type\":\"module\"}\n").unwrap();
        std::fs::write(dir.join("README.md"), "not packaged\n").unwrap();
        std::fs::write(dir.join("test/lib.test.mjs"), "not packaged\n").unwrap();
        std::fs::write(dir.join(".git/x.mjs"), "not packaged\n").unwrap();
    }

    #[test]
    fn same_sources_give_identical_bytes_and_one_byte_changes_the_hash() {
        let a = tempfile::tempdir().unwrap();
        sample(a.path());
        let first = package_dir(a.path()).unwrap();
        let second = package_dir(a.path()).unwrap();
        assert_eq!(first.bytes, second.bytes);
        assert_eq!(first.sha256_hex(), second.sha256_hex());
        assert_eq!(first.entries, ["index.mjs", "lib.mjs", "package.json"]);

        // A copy made later (other mtimes, other directory) packs to the same bytes.
        let b = tempfile::tempdir().unwrap();
        sample(b.path());
        let copy = package_dir(b.path()).unwrap();
        assert_eq!(first.bytes, copy.bytes);

        std::fs::write(b.path().join("lib.mjs"), "export const x = 3;\n").unwrap();
        let changed = package_dir(b.path()).unwrap();
        assert_ne!(first.sha256_hex(), changed.sha256_hex());
        assert_ne!(first.sha256_base64(), changed.sha256_base64());
    }

    #[test]
    fn archive_holds_files_at_the_root_with_fixed_metadata() {
        let a = tempfile::tempdir().unwrap();
        sample(a.path());
        let pkg = package_dir(a.path()).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(pkg.bytes.clone())).unwrap();
        let mut names = Vec::new();
        for i in 0..archive.len() {
            let mut f = archive.by_index(i).unwrap();
            names.push(f.name().unwrap().to_string());
            assert_eq!(f.unix_mode().map(|m| m & 0o777), Some(0o644));
            assert_eq!(f.last_modified(), Some(DateTime::default()));
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            assert!(!text.contains("not packaged"));
        }
        assert_eq!(names, ["index.mjs", "lib.mjs", "package.json"]);
        assert_eq!(pkg.sha256_base64().len(), 44);
    }

    #[test]
    fn repository_functions_package_their_modules_and_package_json() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lambdas");
        for name in ["event-logger", "dead-letter-processor"] {
            let pkg = package_dir(&root.join(name)).unwrap();
            assert!(
                pkg.entries.contains(&"index.mjs".to_string()),
                "{:?}",
                pkg.entries
            );
            assert!(pkg.entries.contains(&"package.json".to_string()));
            assert!(pkg.entries.iter().all(|e| !e.starts_with("test/")));
            assert_eq!(pkg.bytes, package_dir(&root.join(name)).unwrap().bytes);
        }
    }

    #[test]
    fn a_directory_without_code_is_an_error() {
        let a = tempfile::tempdir().unwrap();
        std::fs::write(a.path().join("package.json"), "{}").unwrap();
        assert!(matches!(package_dir(a.path()), Err(PackageError::Empty(_))));
        let missing = a.path().join("nope");
        assert!(matches!(
            package_dir(&missing),
            Err(PackageError::Io { .. })
        ));
    }
}

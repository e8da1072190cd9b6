//! Private files and atomic replacement.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and parents) with mode 0700, and tightens it if it already existed.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
}

/// Opens `path` for appending, creating it with mode 0600.
pub fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Writes `bytes` to `path` so that a crash at any instant leaves either the old content or
/// the new, never a mix: temp file in the same directory, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path);
    write_temp(&tmp, bytes)?;
    commit(&tmp, path)
}

/// The temp file `write_atomic` uses for `path`.
pub fn temp_path(path: &Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// First half of an atomic write: the new content, durable, beside the target.
pub fn write_temp(tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(tmp)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Second half: the rename that makes it visible, and the directory entry made durable.
pub fn commit(tmp: &Path, path: &Path) -> io::Result<()> {
    fs::rename(tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The regular files under `root`, as sorted paths relative to it. Hidden entries (a leading
/// `.`) are skipped, and so are directories for which `skip_dir` says so; `follow_links` reads
/// what symbolic links point at.
pub fn files(
    root: &Path,
    follow_links: bool,
    skip_dir: impl Fn(&str) -> bool,
) -> io::Result<Vec<String>> {
    let walker = walkdir::WalkDir::new(root)
        .follow_links(follow_links)
        .min_depth(1)
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            let hidden = name.starts_with('.');
            let skipped = e.file_type().is_dir() && skip_dir(&name);
            !hidden && !skipped
        });
    let mut out = Vec::new();
    for entry in walker {
        let entry = entry.map_err(io::Error::from)?;
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
            out.push(rel.to_string_lossy().to_string());
        }
    }
    out.sort();
    Ok(out)
}

/// Removes temp files left by writers that died between write and rename.
pub fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.contains(".tmp-") {
            let _ = fs::remove_file(e.path());
        }
    }
}

//! External tools: identifying a binary without running it, and comparing versions. (Finding
//! one on `PATH` is the `which` crate's.)

/// Identifies an installed binary without running it: its resolved path, size and modification
/// time. Fingerprints use this so that a no-op run starts no terraform process; an upgrade
/// changes it.
pub fn binary_identity(binary: &str) -> String {
    // A name with a `/` is taken as a path.
    let Ok(path) = which::which(binary) else {
        return format!("{binary}: not found");
    };
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    match std::fs::metadata(&path) {
        Ok(m) => {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{} {} bytes mtime {mtime}", path.display(), m.len())
        }
        Err(e) => format!("{}: {e}", path.display()),
    }
}

/// Whether `version` (e.g. `1.11.4`, `1.6.0-beta1`) is at least `major.minor`.
pub fn at_least(version: &str, major: u64, minor: u64) -> bool {
    let mut parts = version
        .trim_start_matches('v')
        .split(['.', '-'])
        .map(|p| p.parse::<u64>().unwrap_or(0));
    let (ma, mi) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (ma, mi) >= (major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_comparison() {
        assert!(at_least("1.11.4", 1, 5));
        assert!(at_least("1.5.0", 1, 5));
        assert!(!at_least("1.4.9", 1, 5));
        assert!(!at_least("0.15.0", 1, 5));
        assert!(at_least("2.0.0-beta1", 1, 5));
    }
}

//! External tools the deployment needs, and their versions.

use std::process::Stdio;
use std::time::Duration;

/// A tool's version, or why it could not be read.
pub async fn terraform_version(binary: &str) -> Result<String, String> {
    let run = tokio::process::Command::new(binary)
        .args(["version", "-json"])
        .stdin(Stdio::null())
        .env("CHECKPOINT_DISABLE", "1")
        .kill_on_drop(true)
        .output();
    let out = match tokio::time::timeout(Duration::from_secs(30), run).await {
        Err(_) => {
            return Err(format!(
                "`{binary} version -json` did not answer within 30s"
            ));
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("`{binary}` was not found on PATH"));
        }
        Ok(Err(e)) => return Err(format!("`{binary}` could not be run: {e}")),
        Ok(Ok(out)) => out,
    };
    if !out.status.success() {
        return Err(format!(
            "`{binary} version -json` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("`{binary} version -json` printed no JSON ({e})"))?;
    v.get("terraform_version")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("`{binary} version -json` has no terraform_version"))
}

/// Identifies an installed binary without running it: its resolved path, size and modification
/// time. Fingerprints use this so that a no-op run starts no terraform process; an upgrade
/// changes it.
pub fn binary_identity(binary: &str) -> String {
    let Some(path) = crate::emulator::which(binary) else {
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

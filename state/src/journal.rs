//! The human-readable logs: `deployment.log`, `errors.log`, `warnings.log`, and one log file
//! per step run under `logs/`.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use crate::fsutil;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn tag(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// One timestamped line, as the scripts wrote them: `[2026-11-23T19:00:00Z] [INFO] [iam] ...`.
pub fn format_line(level: Level, step: Option<&str>, message: &str) -> String {
    let ts = Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or(Timestamp::now());
    match step {
        Some(s) => format!("[{ts}] [{}] [{s}] {message}\n", level.tag()),
        None => format!("[{ts}] [{}] {message}\n", level.tag()),
    }
}

/// Appends a formatted line to `deployment.log`, and to `errors.log` or `warnings.log` by level.
pub fn write(dir: &Path, level: Level, line: &str) -> io::Result<()> {
    fsutil::append(&dir.join("deployment.log"))?.write_all(line.as_bytes())?;
    let extra = match level {
        Level::Info => None,
        Level::Warn => Some("warnings.log"),
        Level::Error => Some("errors.log"),
    };
    if let Some(name) = extra {
        fsutil::append(&dir.join(name))?.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// The log of one run of one step: `logs/<step>-<timestamp>.log`, with `logs/<step>.log`
/// pointing at the latest run.
pub struct StepLog {
    file: File,
    path: PathBuf,
}

impl StepLog {
    pub fn create(dir: &Path, step: &str) -> io::Result<StepLog> {
        let logs = dir.join("logs");
        fsutil::private_dir(&logs)?;
        let stamp = Timestamp::now().strftime("%Y%m%dT%H%M%S%.3fZ").to_string();
        let name = format!("{step}-{stamp}.log");
        let path = logs.join(&name);
        let file = fsutil::append(&path)?;
        let latest = logs.join(format!("{step}.log"));
        let _ = std::fs::remove_file(&latest);
        std::os::unix::fs::symlink(&name, &latest)?;
        Ok(StepLog { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn line(&mut self, level: Level, message: &str) {
        let _ = self
            .file
            .write_all(format_line(level, None, message).as_bytes());
    }

    /// Raw output (a subprocess's), written as it came.
    pub fn raw(&mut self, bytes: &[u8]) {
        let _ = self.file.write_all(bytes);
    }

    pub fn flush(&mut self) {
        let _ = self.file.sync_data();
    }
}

//! The starter contracts a new project gets with the checked-in hub: the schemas and examples of
//! its event types, written by `deploy init` where no file is yet.

use std::path::Path;

/// Every schema and example of the checked-in hub, by path relative to the project.
const FILES: &[(&str, &str)] = &[
    (
        "examples/audio-uploaded/v1-batch-2.json",
        include_str!("../../../examples/audio-uploaded/v1-batch-2.json"),
    ),
    (
        "examples/audio-uploaded/v1.json",
        include_str!("../../../examples/audio-uploaded/v1.json"),
    ),
    (
        "examples/document-uploaded/v1-batch-2.json",
        include_str!("../../../examples/document-uploaded/v1-batch-2.json"),
    ),
    (
        "examples/document-uploaded/v1.json",
        include_str!("../../../examples/document-uploaded/v1.json"),
    ),
    (
        "examples/transcription-completed/v1.json",
        include_str!("../../../examples/transcription-completed/v1.json"),
    ),
    (
        "examples/user-registered/v1.json",
        include_str!("../../../examples/user-registered/v1.json"),
    ),
    (
        "examples/video-uploaded/v1.json",
        include_str!("../../../examples/video-uploaded/v1.json"),
    ),
    (
        "schemas/audio-uploaded/v1.json",
        include_str!("../../../schemas/audio-uploaded/v1.json"),
    ),
    (
        "schemas/document-uploaded/v1.json",
        include_str!("../../../schemas/document-uploaded/v1.json"),
    ),
    (
        "schemas/transcription-completed/v1.json",
        include_str!("../../../schemas/transcription-completed/v1.json"),
    ),
    (
        "schemas/user-registered/v1.json",
        include_str!("../../../schemas/user-registered/v1.json"),
    ),
    (
        "schemas/video-uploaded/v1.json",
        include_str!("../../../schemas/video-uploaded/v1.json"),
    ),
];

/// Writes each starter file that does not exist yet under `dir`; returns how many it wrote.
pub fn write_missing(dir: &Path) -> std::io::Result<usize> {
    let mut written = 0;
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if path.exists() {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list is the repository's schemas/ and examples/, file for file.
    #[test]
    fn every_checked_in_contract_file_is_a_starter_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut on_disk = Vec::new();
        for d in ["schemas", "examples"] {
            for e in walkdir::WalkDir::new(root.join(d)) {
                let e = e.unwrap();
                if e.file_type().is_file() {
                    let rel = e.path().strip_prefix(root).unwrap();
                    on_disk.push(rel.display().to_string());
                }
            }
        }
        on_disk.sort();
        let listed: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(listed, on_disk);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(write_missing(dir.path()).unwrap(), FILES.len());
        assert_eq!(
            write_missing(dir.path()).unwrap(),
            0,
            "existing files are kept"
        );
    }
}

//! The artifact file itself, as a reviewer's tools (or an attacker's) see it: a zip.

use std::io::{Cursor, Read, Write};
use std::path::Path;

/// Every entry of the zip `bytes`, by name, its content uncompressed.
pub fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut content = Vec::new();
            f.read_to_end(&mut content).unwrap();
            (f.name().unwrap().to_string(), content)
        })
        .collect()
}

/// Every layer of the file as stored and uncompressed: its own bytes, then each entry's, and
/// inside Terraform's saved plan (itself a zip) each of its entries.
pub fn layers(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("(the file)".to_string(), bytes.to_vec())];
    for (name, content) in entries(bytes) {
        if zip::ZipArchive::new(Cursor::new(&content)).is_ok() {
            for (inner, c) in layers(&content) {
                out.push((format!("{name}/{inner}"), c));
            }
        } else {
            out.push((name, content));
        }
    }
    out
}

/// Where `needle` occurs in any layer of the file at `path`.
pub fn occurrences(path: &Path, needle: &str) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    layers(&bytes)
        .into_iter()
        .filter(|(_, c)| c.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .map(|(name, _)| name)
        .collect()
}

/// The file at `path` written again as a person would after editing `manifest.json` with
/// `change`: the other entries (the digest among them) as they were.
pub fn edit_manifest(path: &Path, change: impl Fn(&str) -> String) {
    let bytes = std::fs::read(path).unwrap();
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries(&bytes) {
        let content = if name == "manifest.json" {
            let text = String::from_utf8(content).unwrap();
            let edited = change(&text);
            assert_ne!(edited, text, "the edit changes the manifest");
            edited.into_bytes()
        } else {
            content
        };
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&content).unwrap();
    }
    std::fs::write(path, zip.finish().unwrap().into_inner()).unwrap();
}

/// The manifest `deploy show-plan FILE --json` prints.
pub fn manifest(ctx: &crate::support::TestContext, path: &Path) -> serde_json::Value {
    let out = crate::stack::run(ctx, &["show-plan", path.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", crate::stack::text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

//! The step's working directory, `<ledger>/terraform/`: copies of the stack's files, the
//! generated variables, the CLI configuration, terraform's data directory, the local state and
//! the saved plan. Each deployment has its own, so runs sharing one checkout never race on
//! `.terraform` or on state.

use std::path::{Path, PathBuf};

use deploy_state::fsutil;

use crate::engine::StepError;

/// Files of a stack that are copied (searched recursively, as modules may live in subfolders).
pub const STACK_EXTENSIONS: &[&str] = &[".tf", ".tf.json", ".tftpl"];
pub const LOCK_FILE: &str = ".terraform.lock.hcl";
pub const PLAN_FILE: &str = "tfplan";

/// Absolute, since terraform runs inside it and is handed paths into it.
pub fn path(state_dir: &Path) -> PathBuf {
    let dir = state_dir.join("terraform");
    std::path::absolute(&dir).unwrap_or(dir)
}

/// Makes `dir` hold exactly the stack files of `source` (plus terraform's own files), and
/// returns the relative paths copied.
pub fn sync_stack(source: &Path, dir: &Path) -> Result<Vec<String>, StepError> {
    if !source.is_dir() {
        return Err(StepError::permanent(format!(
            "the Terraform stack directory {} does not exist",
            source.display()
        ))
        .with_hint(
            "set `[terraform] dir` in deploy.toml to the directory holding the *.tf files",
        ));
    }
    let io = |what: &str, p: &Path, e: std::io::Error| {
        StepError::permanent(format!("{what} {}: {e}", p.display()))
    };
    fsutil::private_dir(dir).map_err(|e| io("cannot create", dir, e))?;
    let old = collect(dir).map_err(|e| io("cannot read", dir, e))?;
    for rel in &old {
        let p = dir.join(rel);
        std::fs::remove_file(&p).map_err(|e| io("cannot remove", &p, e))?;
    }
    let files = collect(source).map_err(|e| io("cannot read", source, e))?;
    if !files
        .iter()
        .any(|f| f.ends_with(".tf") || f.ends_with(".tf.json"))
    {
        return Err(
            StepError::permanent(format!("{} holds no *.tf files", source.display())).with_hint(
                "set `[terraform] dir` in deploy.toml to the directory holding the stack",
            ),
        );
    }
    for rel in &files {
        let to = dir.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("cannot create", parent, e))?;
        }
        let from = source.join(rel);
        std::fs::copy(&from, &to).map_err(|e| io("cannot copy", &from, e))?;
    }
    let lock = source.join(LOCK_FILE);
    if lock.is_file() {
        std::fs::copy(&lock, dir.join(LOCK_FILE)).map_err(|e| io("cannot copy", &lock, e))?;
    }
    Ok(files)
}

/// Stack files under `dir`, relative, sorted; hidden entries (`.terraform`) are skipped.
fn collect(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut files = fsutil::files(dir, false, |_| false)?;
    files.retain(|f| STACK_EXTENSIONS.iter().any(|e| f.ends_with(e)));
    Ok(files)
}

/// Takes group and other permissions off everything under `dir` (what an earlier release or a
/// terraform run without a umask left readable), keeping the owner's, executables included.
/// Symbolic links are left alone.
pub fn restrict(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let entry = entry.map_err(std::io::Error::from)?;
        if entry.file_type().is_symlink() {
            continue;
        }
        let mode = entry
            .metadata()
            .map_err(std::io::Error::from)?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to `dir/name` atomically, private.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, StepError> {
    let p = dir.join(name);
    fsutil::write_atomic(&p, bytes)
        .map_err(|e| StepError::permanent(format!("cannot write {}: {e}", p.display())))?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_follows_the_source_and_keeps_terraform_files() {
        let src = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("terraform");
        std::fs::write(src.path().join("main.tf"), "a").unwrap();
        std::fs::write(src.path().join("old.tf"), "b").unwrap();
        std::fs::write(src.path().join("README.md"), "c").unwrap();
        std::fs::create_dir_all(src.path().join("modules/x")).unwrap();
        std::fs::write(src.path().join("modules/x/x.tf"), "d").unwrap();
        std::fs::create_dir_all(src.path().join(".terraform")).unwrap();
        std::fs::write(src.path().join(".terraform/junk.tf"), "e").unwrap();
        let copied = sync_stack(src.path(), &dir).unwrap();
        assert_eq!(copied, ["main.tf", "modules/x/x.tf", "old.tf"]);

        std::fs::create_dir_all(dir.join(".terraform")).unwrap();
        std::fs::write(dir.join(".terraform/keep.tf"), "f").unwrap();
        std::fs::write(dir.join("terraform.tfstate"), "{}").unwrap();
        std::fs::remove_file(src.path().join("old.tf")).unwrap();
        std::fs::write(src.path().join("main.tf"), "a2").unwrap();
        sync_stack(src.path(), &dir).unwrap();
        assert!(!dir.join("old.tf").exists());
        assert_eq!(std::fs::read_to_string(dir.join("main.tf")).unwrap(), "a2");
        assert!(dir.join(".terraform/keep.tf").exists());
        assert!(dir.join("terraform.tfstate").exists());
    }

    #[test]
    fn restrict_takes_group_and_other_bits_off_and_keeps_executables() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let set = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        let state = dir.path().join("terraform.tfstate");
        std::fs::write(&state, "{}").unwrap();
        set(&state, 0o644);
        let sub = dir.path().join(".terraform/providers");
        std::fs::create_dir_all(&sub).unwrap();
        set(&sub, 0o755);
        let provider = sub.join("terraform-provider-aws");
        std::fs::write(&provider, "#!").unwrap();
        set(&provider, 0o755);
        restrict(dir.path()).unwrap();
        assert_eq!(mode(&state), 0o600);
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&provider), 0o700);
    }

    #[test]
    fn a_missing_or_empty_stack_is_a_permanent_error_naming_the_setting() {
        let work = tempfile::tempdir().unwrap();
        let err = sync_stack(&work.path().join("nope"), &work.path().join("t")).unwrap_err();
        assert!(err.hint.unwrap().contains("[terraform] dir"));
        let empty = tempfile::tempdir().unwrap();
        let err = sync_stack(empty.path(), &work.path().join("t")).unwrap_err();
        assert!(err.message.contains("no *.tf files"), "{err}");
    }
}

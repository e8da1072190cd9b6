//! AWS profiles: which exist, so that a misspelt one is named with the ones that do.

/// The profiles defined in the shared config and credentials files (`AWS_CONFIG_FILE`,
/// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` and `~/.aws/credentials`).
pub fn known_profiles() -> Vec<String> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let file = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(std::path::PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
    };
    let mut names = Vec::new();
    for (path, in_config) in [
        (file("AWS_CONFIG_FILE", "config"), true),
        (file("AWS_SHARED_CREDENTIALS_FILE", "credentials"), false),
    ] {
        let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) else {
            continue;
        };
        names.extend(profile_sections(&text, in_config));
    }
    names.sort();
    names.dedup();
    names
}

/// Section names that are profiles: `[profile x]` and `[default]` in the config file, every
/// `[x]` in the credentials file.
fn profile_sections(text: &str, in_config: bool) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let inner = l.strip_prefix('[')?.strip_suffix(']')?.trim();
            if !in_config {
                return Some(inner.to_string());
            }
            if inner == "default" {
                return Some(inner.to_string());
            }
            inner.strip_prefix("profile ").map(|p| p.trim().to_string())
        })
        .collect()
}

/// Why the configured profile cannot be used, naming the profiles that exist.
pub fn profile_problem(profile: &str) -> Option<String> {
    let known = known_profiles();
    if known.iter().any(|p| p == profile) {
        return None;
    }
    Some(format!(
        "the AWS profile `{profile}` (AWS_PROFILE or [aws] profile) is not defined in the shared \
         config or credentials files; {}",
        if known.is_empty() {
            "none are defined there (`aws configure --profile NAME` or `aws configure sso` make \
             one)"
                .to_string()
        } else {
            format!("the profiles there: {}", known.join(", "))
        }
    ))
}

#[cfg(test)]
mod profile_tests {
    use super::*;

    #[test]
    fn profiles_come_from_both_files_in_their_own_syntax() {
        let config = "[default]\nregion=x\n[profile ops]\n[sso-session corp]\n";
        assert_eq!(profile_sections(config, true), ["default", "ops"]);
        let creds = "[default]\n[ci]\naws_access_key_id=x\n";
        assert_eq!(profile_sections(creds, false), ["default", "ci"]);
    }
}

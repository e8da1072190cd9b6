//! Versions, not overwrites: each code or configuration change of a function is published as a
//! numbered version, and the alias [`ALIAS`] names the one every rule target, invoke permission
//! and event-source mapping invokes. Pointing the alias at another version is how a deploy
//! switches code, and how a rollback switches it back.
//!
//! The previous version is kept until the next successful deploy ([`prune`] keeps the alias's
//! version and the one before it); older ones are removed.

use aws_sdk_lambda::Client;

use crate::aws::{error_code, sdk_error};
use crate::engine::{RetryPolicy, StepError};

/// The alias every managed function is invoked through.
pub const ALIAS: &str = "live";

/// A function's alias ARN, from its unqualified ARN (`...:function:f` → `...:function:f:live`).
pub fn alias_arn(function_arn: &str) -> String {
    format!("{}:{ALIAS}", unqualified(function_arn))
}

/// A function ARN without its qualifier (a version or an alias).
pub fn unqualified(function_arn: &str) -> &str {
    let parts: Vec<&str> = function_arn.splitn(8, ':').collect();
    if parts.len() == 8 {
        let cut = function_arn.len() - parts[7].len() - 1;
        &function_arn[..cut]
    } else {
        function_arn
    }
}

/// An SDK error, transient when Lambda says an update of the function is still being applied
/// (`ResourceConflictException`) or it is busy: worth retrying.
fn classify<E>(what: &str, e: crate::aws::AwsError<E>) -> StepError
where
    E: aws_sdk_lambda::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let busy = matches!(
        error_code(&e),
        Some("ResourceConflictException" | "TooManyRequestsException")
    );
    let err = sdk_error(what, e);
    if busy {
        StepError::transient(err.message)
    } else {
        err
    }
}

/// Publishes what `$LATEST` holds (its code must be `code_sha256`) as a version, and returns its
/// number. Lambda publishes nothing when neither code nor configuration changed since the last
/// version: it answers with that version.
pub async fn publish(
    client: &Client,
    policy: &RetryPolicy,
    name: &str,
    code_sha256: &str,
) -> Result<String, StepError> {
    let publish = || async {
        client
            .publish_version()
            .function_name(name)
            .code_sha256(code_sha256)
            .send()
            .await
            .map_err(|e| classify(&format!("PublishVersion {name}"), e))
    };
    let out = policy.retry(publish).await?;
    out.version
        .filter(|v| v != "$LATEST")
        .ok_or_else(|| StepError::permanent(format!("PublishVersion {name}: no version number")))
}

/// The version the alias points at, `None` when the function has no such alias.
pub async fn alias_version(client: &Client, name: &str) -> Result<Option<String>, StepError> {
    match client
        .get_alias()
        .function_name(name)
        .name(ALIAS)
        .send()
        .await
    {
        Ok(out) => Ok(out.function_version),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(sdk_error(&format!("GetAlias {name}:{ALIAS}"), e)),
    }
}

/// What pointing the alias did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pointed {
    Created,
    /// Moved from the version it pointed at.
    Moved(String),
    Kept,
}

/// Points the alias of `name` at `version` (creating it when missing).
pub async fn point(
    client: &Client,
    policy: &RetryPolicy,
    name: &str,
    version: &str,
) -> Result<Pointed, StepError> {
    let pointed = match alias_version(client, name).await? {
        Some(v) if v == version => return Ok(Pointed::Kept),
        Some(v) => Pointed::Moved(v),
        None => Pointed::Created,
    };
    let what = format!("{name}:{ALIAS} -> {version}");
    let send = || async {
        // Each attempt looks again: a create whose answer was lost (a dropped connection) made
        // the alias, and creating it again would be refused as a conflict.
        let now = alias_version(client, name).await?;
        if now.as_deref() == Some(version) {
            return Ok(());
        }
        if now.is_none() {
            let create = client.create_alias().function_name(name).name(ALIAS);
            create
                .function_version(version)
                .description("the version this deployment serves (managed by deploy)")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify(&format!("CreateAlias {what}"), e))
        } else {
            let update = client.update_alias().function_name(name).name(ALIAS);
            update
                .function_version(version)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify(&format!("UpdateAlias {what}"), e))
        }
    };
    policy.retry(send).await?;
    Ok(pointed)
}

/// The numbered versions of `name` (not `$LATEST`), oldest first.
pub async fn versions(client: &Client, name: &str) -> Result<Vec<String>, StepError> {
    let mut out = Vec::new();
    let mut pages = client
        .list_versions_by_function()
        .function_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error(&format!("ListVersionsByFunction {name}"), e))?;
        for v in page.versions() {
            if let Some(n) = v.version().filter(|n| *n != "$LATEST") {
                out.push(n.to_string());
            }
        }
    }
    out.sort_by_key(|v| v.parse::<u64>().unwrap_or(u64::MAX));
    Ok(out)
}

/// The versions to delete so that only `keep` (the alias's, and the one before it) remain.
pub fn to_prune(all: &[String], keep: &[&str]) -> Vec<String> {
    all.iter()
        .filter(|v| !keep.contains(&v.as_str()))
        .cloned()
        .collect()
}

/// Deletes every numbered version of `name` but `keep`; returns those deleted.
pub async fn prune(client: &Client, name: &str, keep: &[&str]) -> Result<Vec<String>, StepError> {
    let doomed = to_prune(&versions(client, name).await?, keep);
    for v in &doomed {
        let deleted = client
            .delete_function()
            .function_name(name)
            .qualifier(v)
            .send()
            .await;
        match deleted {
            Ok(_) => {}
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(sdk_error(&format!("DeleteFunction {name}:{v}"), e)),
        }
    }
    Ok(doomed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alias_arn_replaces_any_qualifier() {
        let f = "arn:aws:lambda:us-east-1:000000000000:function:dev-event-logger";
        assert_eq!(alias_arn(f), format!("{f}:live"));
        assert_eq!(alias_arn(&format!("{f}:7")), format!("{f}:live"));
        assert_eq!(alias_arn(&format!("{f}:live")), format!("{f}:live"));
        assert_eq!(unqualified(&format!("{f}:live")), f);
    }

    #[test]
    fn pruning_keeps_the_live_version_and_the_one_before_it() {
        let all: Vec<String> = ["1", "2", "3", "4"].map(String::from).to_vec();
        assert_eq!(to_prune(&all, &["4", "2"]), vec!["1", "3"]);
        assert!(to_prune(&all[..2], &["2", "1"]).is_empty());
    }
}

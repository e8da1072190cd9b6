//! `[state]`: where the ledger lives, on disk or in an S3 bucket.

use std::time::Duration;

use super::Resolver;
use crate::error::ConfigError;
use crate::model::{Project, StateBackend, StateConfig};
use crate::raw::RawState;
use crate::validate as v;

impl Resolver<'_> {
    pub(super) fn state(
        &self,
        raw: &RawState,
        project: &Project,
    ) -> Result<StateConfig, ConfigError> {
        let backend = match &raw.backend {
            None => None,
            Some(b) => Some(match b.get_ref().as_str() {
                "local" => StateBackend::Local,
                "s3" => StateBackend::S3,
                other => {
                    return Err(ConfigError::invalid(
                        &self.src,
                        Some(b.span()),
                        "state.backend",
                        format!("unknown backend `{other}`"),
                        "\"local\" or \"s3\"",
                    ));
                }
            }),
        };
        let bucket = match &raw.bucket {
            Some(b) => Some(self.check_value("state.bucket", b, |s: &String| v::bucket_name(s))?),
            None => None,
        };
        if let (Some(StateBackend::Local), Some(b)) = (backend, &raw.bucket) {
            return Err(ConfigError::invalid(
                &self.src,
                Some(b.span()),
                "state.bucket",
                "`state.bucket` is set together with `state.backend = \"local\"`, \
                 which keeps the state on disk and uses no bucket",
                "`state.bucket` with `state.backend = \"s3\"` (or no `state.backend`), \
                 or `state.backend = \"local\"` without `state.bucket`",
            ));
        }
        let (backend, bucket) = match &self.overrides.state_bucket {
            Some(over) => {
                let over = v::bucket_name(over).map_err(|(problem, allowed)| {
                    ConfigError::invalid(
                        &self.src,
                        None,
                        "state.bucket (from DEPLOY_STATE_BUCKET)",
                        problem,
                        allowed,
                    )
                })?;
                (StateBackend::S3, Some(over))
            }
            None => {
                let implied = if bucket.is_some() {
                    StateBackend::S3
                } else {
                    StateBackend::Local
                };
                (backend.unwrap_or(implied), bucket)
            }
        };
        let prefix = self.checked(
            "state.prefix",
            &raw.prefix,
            &default_prefix(project, &project.environment),
            v::state_prefix,
        )?;
        let region = match &raw.region {
            Some(r) => Some(self.check_value("state.region", r, |s: &String| v::region(s))?),
            None => None,
        };
        let kms_key_id = match &raw.kms_key_id {
            Some(k) => {
                Some(self.check_value("state.kms_key_id", k, |s: &String| v::kms_key_id(s))?)
            }
            None => None,
        };
        let lease = self.int_in(
            "state.lock_lease_seconds",
            &raw.lock_lease_seconds,
            60,
            2,
            3600,
        )?;
        Ok(StateConfig {
            backend,
            bucket,
            prefix,
            region,
            kms_key_id,
            lock_lease: Duration::from_secs(u64::from(lease)),
        })
    }
}

/// `<project.name>/<environment>/`
pub(super) fn default_prefix(project: &Project, environment: &str) -> String {
    format!("{}/{environment}/", project.name)
}

//! `[state]`: where the ledger lives, on disk or in an S3 bucket.

use std::time::Duration;

use super::Resolver;
use crate::error::ConfigError;
use crate::model::{Project, StateBackend, StateConfig};
use crate::raw::{RawState, S};
use crate::validate as v;

impl Resolver<'_> {
    pub(super) fn state(
        &self,
        raw: &RawState,
        project: &Project,
    ) -> Result<StateConfig, ConfigError> {
        let backend = self.state_backend(raw)?;
        let bucket = self.given("state.bucket", &raw.bucket, v::bucket_name)?;
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
        let (backend, bucket) = self.state_location(backend, bucket)?;
        let prefix = self.checked(
            "state.prefix",
            &raw.prefix,
            &default_prefix(project, &project.environment),
            v::state_prefix,
        )?;
        let region = self.given("state.region", &raw.region, v::region)?;
        let kms_key_id = self.given("state.kms_key_id", &raw.kms_key_id, v::kms_key_id)?;
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

    /// A value of `[state]` without a default, checked when the file gives it.
    fn given(
        &self,
        key: &str,
        value: &S<String>,
        check: fn(&str) -> Result<String, (String, String)>,
    ) -> Result<Option<String>, ConfigError> {
        value
            .as_ref()
            .map(|given| self.check_value(key, given, |s: &String| check(s)))
            .transpose()
    }

    /// `state.backend` as the file gives it, if it does.
    fn state_backend(&self, raw: &RawState) -> Result<Option<StateBackend>, ConfigError> {
        let Some(b) = &raw.backend else {
            return Ok(None);
        };
        match b.get_ref().as_str() {
            "local" => Ok(Some(StateBackend::Local)),
            "s3" => Ok(Some(StateBackend::S3)),
            other => Err(ConfigError::invalid(
                &self.src,
                Some(b.span()),
                "state.backend",
                format!("unknown backend `{other}`"),
                "\"local\" or \"s3\"",
            )),
        }
    }

    /// The backend and bucket in force: `DEPLOY_STATE_BUCKET` beats the file and selects s3;
    /// otherwise a bucket implies s3 unless the file names the backend.
    fn state_location(
        &self,
        backend: Option<StateBackend>,
        bucket: Option<String>,
    ) -> Result<(StateBackend, Option<String>), ConfigError> {
        match &self.overrides.state_bucket {
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
                Ok((StateBackend::S3, Some(over)))
            }
            None => {
                let implied = if bucket.is_some() {
                    StateBackend::S3
                } else {
                    StateBackend::Local
                };
                Ok((backend.unwrap_or(implied), bucket))
            }
        }
    }
}

/// `<project.name>/<environment>/`
pub(super) fn default_prefix(project: &Project, environment: &str) -> String {
    format!("{}/{environment}/", project.name)
}

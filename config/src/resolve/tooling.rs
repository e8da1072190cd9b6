//! `[terraform]`, `[aws]`, `[iam]` and `[retry]`: how deploy does its work rather than what it
//! deploys — the terraform it runs, how it reaches AWS, how it handles its own permissions and
//! how long it retries.

use std::time::Duration;

use super::Resolver;
use crate::error::ConfigError;
use crate::model::{
    Aws, DEFAULT_LOCAL_ENDPOINT, DEFAULT_PARALLELISM, IamMode, MAX_PARALLELISM, Retry, Terraform,
};
use crate::raw::{RawAws, RawIam, RawRetry, RawTerraform};
use crate::validate as v;

impl Resolver<'_> {
    pub(super) fn terraform(&self, raw: &RawTerraform) -> Result<Terraform, ConfigError> {
        let binary = self.checked("terraform.binary", &raw.binary, "terraform", v::non_empty)?;
        let mirror = self
            .overrides
            .plugin_mirror
            .as_deref()
            .or(raw.plugin_mirror.as_deref())
            .map(|p| self.path_or(Some(p), p));
        Ok(Terraform {
            binary,
            dir: self.path_or(raw.dir.as_deref(), "terraform"),
            plugin_mirror: mirror,
            parallelism: self.int_in(
                "terraform.parallelism",
                &raw.parallelism,
                DEFAULT_PARALLELISM,
                1,
                MAX_PARALLELISM,
            )?,
        })
    }

    pub(super) fn aws(&self, raw: &RawAws) -> Result<Aws, ConfigError> {
        let endpoint_url = match (&self.overrides.endpoint_url, &raw.endpoint_url) {
            (Some(url), _) => Some(v::endpoint(url).map_err(|(problem, allowed)| {
                ConfigError::invalid(
                    &self.src,
                    None,
                    "aws.endpoint_url (from AWS_ENDPOINT_URL)",
                    problem,
                    allowed,
                )
            })?),
            (None, Some(url)) => {
                Some(self.check_value("aws.endpoint_url", url, |s: &String| v::endpoint(s))?)
            }
            (None, None) if self.overrides.local => Some(DEFAULT_LOCAL_ENDPOINT.to_string()),
            (None, None) => None,
        };
        Ok(Aws {
            profile: self
                .overrides
                .profile
                .clone()
                .or_else(|| raw.profile.clone()),
            endpoint_url,
        })
    }

    pub(super) fn iam(&self, raw: &RawIam) -> Result<IamMode, ConfigError> {
        let Some(mode) = &raw.mode else {
            return Ok(IamMode::Auto);
        };
        match mode.get_ref().as_str() {
            "auto" => Ok(IamMode::Auto),
            "user-policy" => Ok(IamMode::UserPolicy),
            "skip" => Ok(IamMode::Skip),
            other => Err(ConfigError::invalid(
                &self.src,
                Some(mode.span()),
                "iam.mode",
                format!("unknown mode `{other}`"),
                "\"auto\", \"user-policy\" or \"skip\"",
            )),
        }
    }

    pub(super) fn retry(&self, raw: &RawRetry) -> Result<Retry, ConfigError> {
        Ok(Retry {
            max_elapsed: self.seconds(
                "retry.max_elapsed_seconds",
                &raw.max_elapsed_seconds,
                120.0,
            )?,
            initial_delay: Duration::from_millis(u64::from(self.int_in(
                "retry.initial_delay_ms",
                &raw.initial_delay_ms,
                500,
                1,
                600_000,
            )?)),
            max_delay: self.seconds("retry.max_delay_seconds", &raw.max_delay_seconds, 20.0)?,
        })
    }
}

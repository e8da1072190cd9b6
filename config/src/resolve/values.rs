//! Reading single values: defaults, overrides, ranges, and errors that point into the file.

use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::Resolver;
use crate::error::ConfigError;
use crate::raw::S;
use crate::validate as v;

impl Resolver<'_> {
    pub(super) fn path_or(&self, given: Option<&str>, default: &str) -> PathBuf {
        let p = PathBuf::from(given.unwrap_or(default));
        if p.is_absolute() {
            p
        } else {
            self.base_dir.join(p)
        }
    }

    pub(super) fn check_value<T: Clone>(
        &self,
        key: &str,
        value: &Spanned<T>,
        check: impl Fn(&T) -> Result<T, (String, String)>,
    ) -> Result<T, ConfigError> {
        check(value.get_ref()).map_err(|(problem, allowed)| {
            ConfigError::invalid(&self.src, Some(value.span()), key, problem, allowed)
        })
    }

    pub(super) fn checked(
        &self,
        key: &str,
        value: &S<String>,
        default: &str,
        check: fn(&str) -> Result<String, (String, String)>,
    ) -> Result<String, ConfigError> {
        match value {
            Some(v) => self.check_value(key, v, |s: &String| check(s)),
            None => Ok(default.to_string()),
        }
    }

    pub(super) fn name_or(
        &self,
        key: &str,
        value: &S<String>,
        default: String,
    ) -> Result<String, ConfigError> {
        self.checked(key, value, &default, v::resource_name)
    }

    pub(super) fn overridable(
        &self,
        key: &str,
        var: &str,
        value: &S<String>,
        over: Option<&str>,
        fallback: &str,
        check: fn(&str) -> Result<String, (String, String)>,
    ) -> Result<String, ConfigError> {
        if let Some(o) = over {
            return check(o).map_err(|(problem, allowed)| {
                ConfigError::invalid(
                    &self.src,
                    None,
                    &format!("{key} (from {var})"),
                    problem,
                    allowed,
                )
            });
        }
        match value {
            Some(v) => self.check_value(key, v, |s: &String| check(s)),
            None => Ok(fallback.to_string()),
        }
    }

    pub(super) fn int_in(
        &self,
        key: &str,
        value: &S<i64>,
        default: u32,
        min: i64,
        max: i64,
    ) -> Result<u32, ConfigError> {
        let Some(v) = value else { return Ok(default) };
        let n = *v.get_ref();
        if n < min || n > max {
            return Err(ConfigError::invalid(
                &self.src,
                Some(v.span()),
                key,
                format!("{n} is out of range"),
                format!("an integer from {min} to {max}"),
            ));
        }
        Ok(n as u32)
    }

    pub(super) fn seconds(
        &self,
        key: &str,
        value: &S<f64>,
        default: f64,
    ) -> Result<Duration, ConfigError> {
        let Some(v) = value else {
            return Ok(Duration::from_secs_f64(default));
        };
        let n = *v.get_ref();
        if !(n > 0.0 && n <= 86_400.0) {
            return Err(ConfigError::invalid(
                &self.src,
                Some(v.span()),
                key,
                format!("{n} is not a usable number of seconds"),
                "a number of seconds greater than 0 and at most 86400",
            ));
        }
        Ok(Duration::from_secs_f64(n))
    }
}

//! `[project]` and `[eventbus]`: the deployment's name, environment and region (each may come
//! from the environment), and its bus.

use super::Resolver;
use crate::error::ConfigError;
use crate::model::{EventBus, Project};
use crate::raw::{RawEventBus, RawProject};
use crate::validate as v;

impl Resolver<'_> {
    pub(super) fn project(&self, raw: &RawProject) -> Result<Project, ConfigError> {
        let environment = self.overridable(
            "project.environment",
            "DEPLOY_ENVIRONMENT",
            &raw.environment,
            self.overrides.environment.as_deref(),
            "dev",
            v::environment,
        )?;
        let ambient = self
            .overrides
            .ambient_region
            .as_deref()
            .unwrap_or("us-east-1");
        let region = self.overridable(
            "project.region",
            "DEPLOY_REGION",
            &raw.region,
            self.overrides.region.as_deref(),
            ambient,
            v::region,
        )?;
        let name = self.checked(
            "project.name",
            &raw.name,
            "eventbridge-hub",
            v::project_name,
        )?;
        Ok(Project {
            name,
            environment,
            region,
        })
    }

    pub(super) fn eventbus(&self, raw: &RawEventBus, env: &str) -> Result<EventBus, ConfigError> {
        let name = self.checked(
            "eventbus.name",
            &raw.name,
            &format!("{env}-application-events"),
            v::bus_name,
        )?;
        let retention = self.int_in(
            "eventbus.archive_retention_days",
            &raw.archive_retention_days,
            7,
            0,
            36500,
        )?;
        Ok(EventBus {
            name,
            archive_name: format!("{env}-event-archive"),
            archive_retention_days: retention,
        })
    }
}

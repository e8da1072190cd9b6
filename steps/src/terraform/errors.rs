//! From a classified terraform failure to the step error the operator reads: what happened,
//! which resource, and what to do about it.

use std::path::Path;

use super::classify::{ErrorBlock, Failure, quote};
use super::cli_config::{Mirror, MirrorSource};
use crate::engine::StepError;

/// Lines of an error block quoted in a step error.
const QUOTE_LINES: usize = 25;

/// What the error messages need to know about the run.
pub struct Setting<'a> {
    /// `init`, `plan`, `apply`.
    pub command: &'a str,
    pub program: &'a str,
    pub workdir: &'a Path,
    pub mirror: Option<&'a Mirror>,
    pub cli_config: Option<&'a Path>,
    pub code: Option<i32>,
}

pub fn step_error(failure: &Failure, s: &Setting<'_>) -> StepError {
    let cmd = format!("terraform {}", s.command);
    match failure {
        Failure::ProviderUnreachable(b) => provider_unreachable(b, s),
        Failure::AlreadyExists(blocks) => already_exists(blocks, s),
        Failure::SchemaAccess(blocks) => StepError::permanent(format!(
            "{cmd}: not authorized to use the EventBridge Schemas API:\n{}",
            quote(&blocks[0], QUOTE_LINES)
        ))
        .with_hint(
            "grant the deploying identity schemas:* on this registry, set `[schemas] optional = \
             true` to carry on without the registry, or `[schemas] registry = false`",
        ),
        Failure::Transient(b) => StepError::transient(format!(
            "{cmd}: {}{}",
            b.summary,
            b.address
                .as_deref()
                .map(|a| format!(" (resource {a})"))
                .unwrap_or_default()
        )),
        Failure::Other(b) => {
            let code = s
                .code
                .map_or("a signal".to_string(), |c| format!("exit code {c}"));
            StepError::permanent(format!(
                "{cmd} failed ({code}): {}\n{}",
                b.summary,
                quote(b, QUOTE_LINES)
            ))
            .with_hint(format!(
                "the full output is in the step log (`deploy logs infrastructure`); the stack's \
                 working directory is {}",
                s.workdir.display()
            ))
        }
    }
}

fn provider_unreachable(b: &ErrorBlock, s: &Setting<'_>) -> StepError {
    let message = format!(
        "terraform init could not install the providers: no provider source is reachable \
         (no registry access and no usable local mirror):\n{}",
        quote(b, QUOTE_LINES)
    );
    let layout = "a directory holding registry.terraform.io/hashicorp/aws/<version>/<os_arch>/ \
                  (`terraform providers mirror <dir>` makes one on a connected machine)";
    let hint = match s.mirror {
        Some(m) => format!(
            "the provider mirror {} ({}) does not hold the required provider: point `[terraform] \
             plugin_mirror` in deploy.toml (or DEPLOY_TERRAFORM_PLUGIN_MIRROR) at {layout}",
            m.path.display(),
            match m.source {
                MirrorSource::Configured => "from [terraform] plugin_mirror",
                MirrorSource::Detected => "found on this machine",
            }
        ),
        None => format!(
            "on a machine without registry access set `[terraform] plugin_mirror` in deploy.toml \
             (or DEPLOY_TERRAFORM_PLUGIN_MIRROR) to {layout}"
        ),
    };
    StepError::permanent(message).with_hint(hint)
}

fn already_exists(blocks: &[ErrorBlock], s: &Setting<'_>) -> StepError {
    let names: Vec<String> = blocks
        .iter()
        .map(|b| match &b.address {
            Some(a) => format!("{a} ({})", short(&b.summary)),
            None => short(&b.summary),
        })
        .collect();
    let env_prefix = s
        .cli_config
        .map(|p| format!("TF_CLI_CONFIG_FILE={} ", p.display()))
        .unwrap_or_default();
    let example = blocks
        .iter()
        .find_map(|b| b.address.clone())
        .unwrap_or_else(|| "<address>".into());
    StepError::permanent(format!(
        "terraform {}: {} already exist{} in AWS but not in this deployment's Terraform state: {}",
        s.command,
        if blocks.len() == 1 {
            "a resource"
        } else {
            "resources"
        },
        if blocks.len() == 1 { "s" } else { "" },
        names.join("; ")
    ))
    .with_hint(format!(
        "they were made by another deployment or by hand. To adopt them, run `terraform import` \
         in this deployment's stack directory (e.g. `cd {} && {env_prefix}{} import '{example}' \
         <id>`); otherwise choose a different environment name (`[project] environment` in \
         deploy.toml, or DEPLOY_ENVIRONMENT) so the names do not collide",
        s.workdir.display(),
        s.program,
    ))
}

/// `creating IAM Role (x): operation error ...` -> `creating IAM Role (x)`.
fn short(summary: &str) -> String {
    summary.split(": ").next().unwrap_or(summary).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terraform::classify::classify;

    fn setting(workdir: &Path) -> Setting<'_> {
        Setting {
            command: "apply",
            program: "terraform",
            workdir,
            mirror: None,
            cli_config: None,
            code: Some(1),
        }
    }

    #[test]
    fn already_exists_names_the_resource_and_suggests_import_or_another_environment() {
        let out = "Error: creating IAM Role (dev-event-publisher-role): operation error IAM: CreateRole, EntityAlreadyExists: Role with name dev-event-publisher-role already exists.\n\n  with aws_iam_role.publisher,\n";
        let dir = Path::new("/p/.deployment-state/terraform");
        let e = step_error(&classify(out), &setting(dir));
        assert!(!e.is_transient());
        assert!(
            e.message
                .contains("aws_iam_role.publisher (creating IAM Role (dev-event-publisher-role))"),
            "{e}"
        );
        let hint = e.hint.unwrap();
        assert!(
            hint.contains("terraform import 'aws_iam_role.publisher' <id>"),
            "{hint}"
        );
        assert!(hint.contains("different environment name"), "{hint}");
    }

    #[test]
    fn unreachable_providers_name_the_mirror_setting() {
        let out = "Error: Failed to query available provider packages\n\nprovider registry.terraform.io/hashicorp/aws was not found in any of the search locations";
        let dir = Path::new("/w");
        let e = step_error(
            &classify(out),
            &Setting {
                command: "init",
                ..setting(dir)
            },
        );
        assert!(e.message.contains("no provider source is reachable"), "{e}");
        let hint = e.hint.unwrap();
        assert!(hint.contains("[terraform] plugin_mirror"), "{hint}");
        assert!(hint.contains("DEPLOY_TERRAFORM_PLUGIN_MIRROR"), "{hint}");
    }

    #[test]
    fn other_failures_quote_the_last_error_block() {
        let out = "Error: first\n\nError: Invalid value for variable\n\n  on variables.tf line 3:\nregion must look like an AWS region.";
        let e = step_error(&classify(out), &setting(Path::new("/w")));
        assert!(
            e.message
                .contains("terraform apply failed (exit code 1): Invalid value"),
            "{e}"
        );
        assert!(
            e.message
                .contains("  | region must look like an AWS region."),
            "{e}"
        );
        assert!(!e.message.contains("first"), "{e}");
    }
}

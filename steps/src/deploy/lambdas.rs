//! The `lambdas` step: package and deploy the Lambda functions and wire them up.
//!
//! For each configured function: build a deterministic zip, create the function or update its
//! code only when the deployed `CodeSha256` differs (and its configuration only when it
//! differs), wait until it is `Active`/`Successful`, publish what it holds as a version and
//! point its alias (`live`) at it, give its asynchronous invocations the DLQ as on-failure
//! destination, then let each of its rules invoke the alias, make the alias the rule's target
//! (with the DLQ as dead-letter config), and map the DLQ to the DLQ consumer's alias.

pub mod function;
pub mod on_failure;
mod ready;
pub mod version;
mod wire;
pub mod wiring;

use std::collections::BTreeMap;

use async_trait::async_trait;
use deploy_config::Lambda;
use deploy_state::{Fingerprint, LedgerState, Resource, ResourceKind};
use tokio::task::JoinSet;

use self::function::{CodeAction, Desired};
use self::version::{ALIAS, Pointed};
use self::wire::{Wire, map_dead_letter_queue, wire_rule};
use crate::catalog;
use crate::engine::{Live, RetryPolicy, Step, StepContext, StepError};
use crate::env::Env;
use crate::outputs::{self, Infrastructure};
use crate::package::{Package, package_dir};

pub struct Lambdas;

pub const STEP: &str = "lambdas";
/// Log line written when a function's code is left alone (tests look for it).
pub const CODE_UNCHANGED: &str = "code unchanged (sha256 matches)";

/// Builds a function's package, as a step error naming the directory.
pub fn build_package(lambda: &Lambda) -> Result<Package, StepError> {
    package_dir(&lambda.source).map_err(|e| {
        StepError::permanent(format!("packaging {}: {e}", lambda.key)).with_hint(format!(
            "check [lambdas.{}] source in deploy.toml",
            lambda.key
        ))
    })
}

/// The environment every function gets.
pub fn function_environment(out: &Infrastructure) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("EVENT_BUS_NAME".to_string(), out.event_bus_name.clone()),
        ("DLQ_URL".to_string(), out.dlq_url.clone()),
    ])
}

#[async_trait]
impl Step for Lambdas {
    fn name(&self) -> &'static str {
        STEP
    }

    fn number(&self) -> &'static str {
        "040"
    }

    fn description(&self) -> &'static str {
        "package and deploy the Lambda functions and wire them up"
    }

    fn critical(&self) -> bool {
        false
    }

    async fn fingerprint(&self, env: &Env, state: &LedgerState) -> Result<Fingerprint, StepError> {
        let mut fp = Fingerprint::new().text(crate::engine::TARGET_COMPONENT, &env.target);
        for lambda in &env.config.lambdas {
            let package = build_package(lambda)?;
            fp = fp
                .text(&format!("package/{}", lambda.key), &package.sha256_hex())
                .json(
                    &format!("function/{}", lambda.key),
                    &FunctionSettings::of(lambda, &env.config),
                );
        }
        Ok(outputs::fingerprint_outputs(
            fp,
            &state.step("infrastructure").outputs,
        ))
    }

    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let env = ctx.env;
        let infra = Infrastructure::required(&ctx.outputs_of("infrastructure"))?;
        let aws = env.aws().await?;
        let policy = RetryPolicy::from(&env.config.retry);
        let mut names = BTreeMap::new();
        let mut versions = BTreeMap::new();
        // Creating or updating a function waits until it is Active (most of this step's time):
        // every function at once. Each one made is recorded before a failure of another is
        // reported; then each is versioned and wired in turn.
        let mut made = Vec::new();
        let mut failed = None;
        for (lambda, package, deployed) in deploy_functions(ctx, aws, &policy, &infra).await? {
            log_package(ctx, &lambda, &package);
            match deployed {
                Ok(deployed) => {
                    report(ctx, &lambda.function_name, &deployed);
                    record_and_tag(ctx, aws, &lambda, &deployed.arn).await?;
                    made.push((lambda, deployed));
                }
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        for (lambda, deployed) in made {
            let version = finish_one(ctx, aws, &policy, &infra, &lambda, &deployed).await?;
            names.insert(lambda.key.clone(), lambda.function_name.clone());
            versions.insert(lambda.function_name.clone(), version);
        }
        ctx.output(
            "functions",
            serde_json::to_string(&names).unwrap_or_default(),
        );
        ctx.output(
            "versions",
            serde_json::to_string(&versions).unwrap_or_default(),
        );
        Ok(())
    }

    /// Functions, their permissions, targets and event-source mappings: present, and the
    /// mappings enabled (the same checks as `status --live`).
    async fn live_check(&self, env: &Env, state: &LedgerState) -> Live {
        crate::live::step_live(env, state, STEP).await
    }
}

/// The function settings that, when changed, mean the step must run again.
#[derive(serde::Serialize)]
struct FunctionSettings<'a> {
    function_name: &'a str,
    runtime: &'a str,
    handler: &'a str,
    memory_mb: u32,
    timeout_seconds: u32,
    /// The routes that deliver to it: rule, target id, dead-letter and retry settings.
    routes: Vec<(&'a str, &'a deploy_config::Target)>,
    dead_letter_queue: bool,
    async_retry_attempts: u32,
    async_max_event_age_seconds: u32,
}

impl<'a> FunctionSettings<'a> {
    fn of(l: &'a Lambda, config: &'a deploy_config::Config) -> Self {
        FunctionSettings {
            function_name: &l.function_name,
            runtime: &l.runtime,
            handler: &l.handler,
            memory_mb: l.memory_mb,
            timeout_seconds: l.timeout_seconds,
            routes: config
                .lambda_routes(&l.key)
                .into_iter()
                .flat_map(|r| {
                    r.targets
                        .iter()
                        .filter(|t| matches!(&t.kind, deploy_config::TargetKind::Lambda { key } if key == &l.key))
                        .map(move |t| (r.rule_name.as_str(), t))
                })
                .collect(),
            dead_letter_queue: l.dead_letter_queue,
            async_retry_attempts: l.async_retry_attempts,
            async_max_event_age_seconds: l.async_max_event_age_seconds,
        }
    }
}

/// Deploys one function and wires its alias; returns the version the alias points at.
/// Each configured function's package, and the function created or updated from it (all at
/// once), in the order of the configuration.
async fn deploy_functions(
    ctx: &StepContext<'_>,
    aws: &crate::aws::AwsClients,
    policy: &RetryPolicy,
    infra: &Infrastructure,
) -> Result<Vec<(Lambda, Package, Result<function::Deployed, StepError>)>, StepError> {
    let mut set = JoinSet::new();
    for (i, lambda) in ctx.config().lambdas.iter().cloned().enumerate() {
        let package = build_package(&lambda)?;
        let owned = ctx
            .state()
            .resources(ResourceKind::Function)
            .any(|r| r.name == lambda.function_name);
        let (client, policy) = (aws.lambda.clone(), policy.clone());
        let role_arn = infra.event_processor_role_arn.clone();
        let env = function_environment(infra);
        let tags = crate::ownership::ownership_tags(ctx.config());
        set.spawn(async move {
            let want = Desired {
                lambda: &lambda,
                role_arn: &role_arn,
                env,
                package: &package,
                tags,
                owned,
            };
            let deployed = function::deploy(&client, &policy, &want).await;
            (i, lambda, package, deployed)
        });
    }
    let mut answers = set.join_all().await;
    answers.sort_by_key(|(i, ..)| *i);
    Ok(answers
        .into_iter()
        .map(|(_, lambda, package, deployed)| (lambda, package, deployed))
        .collect())
}

fn log_package(ctx: &mut StepContext<'_>, lambda: &Lambda, package: &Package) {
    ctx.detail(&format!(
        "{}: package of {} ({} bytes, sha256 {}): {}",
        lambda.function_name,
        lambda.source.display(),
        package.bytes.len(),
        package.sha256_base64(),
        package.entries.join(", ")
    ));
}

/// A function created or updated (and recorded): published and pointed at by its alias, its
/// rules' targets wired and its dead-letter mapping made; returns the version.
async fn finish_one(
    ctx: &mut StepContext<'_>,
    aws: &crate::aws::AwsClients,
    policy: &RetryPolicy,
    infra: &Infrastructure,
    lambda: &Lambda,
    deployed: &function::Deployed,
) -> Result<String, StepError> {
    let name = lambda.function_name.as_str();
    let on_failure = on_failure::OnFailureConfig {
        retry_attempts: lambda.async_retry_attempts,
        max_event_age_seconds: lambda.async_max_event_age_seconds,
        destination: infra.dlq_arn.clone(),
    };
    let version = publish_and_point(ctx, aws, policy, name, deployed, &on_failure).await?;
    let alias_arn = version::alias_arn(&deployed.arn);
    let config = ctx.config().clone();
    for route in config.lambda_routes(&lambda.key) {
        for target in route.targets.iter().filter(
            |t| matches!(&t.kind, deploy_config::TargetKind::Lambda { key } if key == &lambda.key),
        ) {
            let wire = Wire {
                lambda,
                rule: &route.rule_name,
                target,
                alias_arn: &alias_arn,
            };
            wire_rule(ctx, aws, infra, wire).await?;
        }
    }
    if lambda.dead_letter_queue {
        map_dead_letter_queue(ctx, aws, infra, name).await?;
    }
    Ok(version)
}

/// Publishes what the function holds now as a version (Lambda answers with the last version
/// when nothing changed since it), points the alias at it, and gives the alias's (and
/// `$LATEST`'s) asynchronous invocations their on-failure destination; the alias goes into the
/// inventory with its version and destination.
async fn publish_and_point(
    ctx: &mut StepContext<'_>,
    aws: &crate::aws::AwsClients,
    policy: &RetryPolicy,
    name: &str,
    deployed: &function::Deployed,
    on_failure: &on_failure::OnFailureConfig,
) -> Result<String, StepError> {
    let version = version::publish(&aws.lambda, policy, name, &deployed.code_sha256).await?;
    match version::point(&aws.lambda, policy, name, &version).await? {
        Pointed::Created => ctx.info(&format!(
            "{name}: alias {ALIAS} created at version {version}"
        )),
        Pointed::Moved(from) => ctx.info(&format!(
            "{name}: alias {ALIAS} moved from version {from} to {version}"
        )),
        Pointed::Kept => ctx.detail(&format!("{name}: alias {ALIAS} at version {version}")),
    }
    for qualifier in [Some(ALIAS), None] {
        if on_failure::ensure(&aws.lambda, policy, name, qualifier, on_failure).await? {
            ctx.info(&format!(
                "{name}{}: asynchronous invocations: {}",
                qualifier.map(|q| format!(":{q}")).unwrap_or_default(),
                on_failure.describe()
            ));
        }
    }
    let arn = version::alias_arn(&deployed.arn);
    let (v, destination) = (version.clone(), on_failure.destination.clone());
    let (retries, age) = (on_failure.retry_attempts, on_failure.max_event_age_seconds);
    ctx.record(
        Resource::new(ResourceKind::Alias, ALIAS, STEP)
            .with_arn(arn)
            .with(|a| {
                a.function = Some(name.to_string());
                a.version = Some(v);
                a.destination = Some(destination);
                a.async_retry_attempts = Some(retries);
                a.async_max_event_age_seconds = Some(age);
            }),
    )
    .await?;
    Ok(version)
}

/// What the deploy did to the function's code and configuration.
fn report(ctx: &mut StepContext<'_>, name: &str, deployed: &function::Deployed) {
    match deployed.code {
        CodeAction::Created => ctx.info(&format!(
            "{name}: created (sha256 {})",
            deployed.code_sha256
        )),
        CodeAction::Updated => ctx.info(&format!(
            "{name}: code updated (sha256 {})",
            deployed.code_sha256
        )),
        CodeAction::Unchanged => ctx.info(&format!("{name}: {CODE_UNCHANGED}")),
    }
    if deployed.code != CodeAction::Created {
        if deployed.config_changes.is_empty() {
            ctx.detail(&format!("{name}: configuration unchanged"));
        } else {
            let changed = deployed.config_changes.join(", ");
            ctx.info(&format!("{name}: configuration updated ({changed})"));
        }
    }
}

/// The function into the inventory; its ownership tags (one made by an earlier release has none
/// yet) on it and on its log group, made here so it is tagged from the start.
async fn record_and_tag(
    ctx: &mut StepContext<'_>,
    aws: &crate::aws::AwsClients,
    lambda: &Lambda,
    arn: &str,
) -> Result<(), StepError> {
    let name = lambda.function_name.as_str();
    let runtime = lambda.runtime.clone();
    let recorded = Resource::new(ResourceKind::Function, name, STEP)
        .with_arn(arn)
        .with(|a| a.runtime = Some(runtime));
    ctx.record(recorded.clone()).await?;
    let tags = crate::ownership::ownership_tags(ctx.config());
    catalog::of(ResourceKind::Function)
        .tag(aws, &recorded, &tags)
        .await?;
    catalog::tagged_log_group(aws, &catalog::function_log_group(name), &tags).await
}

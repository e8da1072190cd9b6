//! The `iam` step: gives an IAM user exactly what the later steps need, scoped to this
//! deployment's resources; changes nothing for roles, SSO sessions and root.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use deploy_config::{Config, IamMode};
use deploy_state::{Fingerprint, LedgerState, Resource, ResourceKind};

use crate::aws::{error_code, is_not_found, sdk_error};
use crate::caller::{self, CallerIdentity, PrincipalKind};
use crate::deploy::iam_policy;
use crate::engine::{Live, Poller, Step, StepContext, StepError, TARGET_COMPONENT};
use crate::env::Env;

pub struct Iam;

/// How long a new policy may take to become effective before the step gives up.
const PROPAGATION_DEADLINE: Duration = Duration::from_secs(120);

enum Plan {
    PutUserPolicy { user: String },
    Report { why: String },
    Nothing,
}

fn plan(config: &Config, id: &CallerIdentity) -> Result<Plan, StepError> {
    match (config.iam, &id.kind) {
        (IamMode::Skip, _) => Ok(Plan::Nothing),
        (IamMode::Auto | IamMode::UserPolicy, PrincipalKind::User { name }) => {
            Ok(Plan::PutUserPolicy { user: name.clone() })
        }
        (IamMode::UserPolicy, _) => Err(StepError::permanent(format!(
            "[iam] mode = \"user-policy\" needs an IAM user, but the caller is the {} {}",
            id.describe(),
            id.arn
        ))
        .with_hint("use mode = \"auto\" (report only) or deploy as an IAM user")),
        (IamMode::Auto, _) => Ok(Plan::Report {
            why: format!(
                "the caller is the {} {}: no policy was changed; it must already allow what \
                 the deployment needs",
                id.describe(),
                id.arn
            ),
        }),
    }
}

#[async_trait]
impl Step for Iam {
    fn name(&self) -> &'static str {
        "iam"
    }

    fn number(&self) -> &'static str {
        "010"
    }

    fn description(&self) -> &'static str {
        "grant the deploying principal what the deployment needs"
    }

    fn critical(&self) -> bool {
        true
    }

    async fn fingerprint(&self, env: &Env, _state: &LedgerState) -> Result<Fingerprint, StepError> {
        let id = caller::identify(env.aws().await?).await?;
        let doc = iam_policy::document(&env.config, &id.account);
        Ok(Fingerprint::new()
            .text("principal", &id.arn)
            .json("mode", &env.config.iam)
            .json("policy", &doc)
            .text(TARGET_COMPONENT, &env.target))
    }

    async fn live_check(&self, env: &Env, state: &LedgerState) -> Live {
        crate::live::step_live(env, state, self.name()).await
    }

    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let env = ctx.env;
        let aws = env.aws().await?;
        let id = caller::identify(aws).await?;
        ctx.output("principal_arn", id.arn.clone());
        ctx.output("account", id.account.clone());
        let mut plan = plan(&env.config, &id)?;
        let unknown_user = match &plan {
            Plan::PutUserPolicy { user } if env.config.iam == IamMode::Auto => {
                (!user_exists(aws, user).await?).then(|| user.clone())
            }
            _ => None,
        };
        if let Some(user) = unknown_user {
            plan = Plan::Report {
                why: format!(
                    "the caller reports IAM user {user}, but IAM has no such user (an \
                     emulator's built-in identity?): no policy was changed"
                ),
            };
        }
        match plan {
            Plan::Nothing => {
                ctx.info("[iam] mode = \"skip\": nothing to do");
                ctx.output("action", "skipped by configuration");
                Ok(())
            }
            Plan::Report { why } => {
                ctx.warn(&why).await;
                ctx.print(&format!(
                    "  The deployment needs these permissions (nothing was changed):\n{}",
                    iam_policy::summary(&env.config, &id.account)
                ));
                ctx.output("action", "reported required permissions");
                Ok(())
            }
            Plan::PutUserPolicy { user } => put_user_policy(ctx, &id, &user).await,
        }
    }
}

/// Whether IAM knows the user STS named (always, on AWS; not for some emulators' identities).
async fn user_exists(aws: &crate::aws::AwsClients, user: &str) -> Result<bool, StepError> {
    match aws.iam.get_user().user_name(user).send().await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(sdk_error("iam:GetUser", e)),
    }
}

async fn put_user_policy(
    ctx: &mut StepContext<'_>,
    id: &CallerIdentity,
    user: &str,
) -> Result<(), StepError> {
    let env = ctx.env;
    let aws = env.aws().await?;
    let name = env.config.deployer_policy_name();
    let doc = iam_policy::document(&env.config, &id.account);
    let text = serde_json::to_string(&doc).expect("policy serializes");
    ctx.info(&format!("putting inline policy {name} on IAM user {user}"));
    aws.iam
        .put_user_policy()
        .user_name(user)
        .policy_name(&name)
        .policy_document(&text)
        .send()
        .await
        .map_err(|e| sdk_error("iam:PutUserPolicy", e))?;
    ctx.record(
        Resource::new(ResourceKind::UserPolicy, &name, "iam")
            .with_arn(id.arn.clone())
            .with(|a| a.user = Some(user.to_string())),
    )
    .await?;
    ctx.output("policy_name", name.clone());
    ctx.output("policy_user", user.to_string());
    ctx.output("action", "put user policy");
    wait_until_effective(ctx).await?;
    Ok(())
}

/// Polls a cheap call the policy allows (`events:DescribeEventBus` on this deployment's bus)
/// until it is authorized: "not found" means authorized. Backoff with a deadline, no fixed sleep.
async fn wait_until_effective(ctx: &mut StepContext<'_>) -> Result<(), StepError> {
    let env = ctx.env;
    let aws = env.aws().await?;
    let bus = env.config.eventbus.name.clone();
    let start = Instant::now();
    let mut poll = Poller::new(PROPAGATION_DEADLINE);
    loop {
        let result = aws.events.describe_event_bus().name(&bus).send().await;
        let denied = match &result {
            Ok(_) => false,
            Err(e) => matches!(
                error_code(e),
                Some("AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation")
            ),
        };
        if !denied {
            match result {
                Err(e) if !is_not_found(&e) => {
                    return Err(sdk_error("events:DescribeEventBus", e));
                }
                _ => {}
            }
            ctx.info(&format!(
                "policy effective after {:.1}s",
                start.elapsed().as_secs_f64()
            ));
            return Ok(());
        }
        ctx.detail("not yet effective (events:DescribeEventBus denied); checking again");
        if !poll.wait().await {
            return Err(StepError::transient(format!(
                "the deployer policy was not effective after {}s (events:DescribeEventBus still denied)",
                PROPAGATION_DEADLINE.as_secs()
            )));
        }
    }
}

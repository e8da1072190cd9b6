//! From the configuration to the backend that holds this deployment's state: a directory per
//! deployment under the local state root, or a prefix in an S3 bucket (created on first use).
//! Also: moving a ledger of the earlier flat layout into place, and listing every deployment a
//! state location holds.

use std::path::Path;
use std::sync::Arc;

use deploy_config::default_state_bucket;
use deploy_state::backend::local::LocalBackend;
use deploy_state::backend::s3::{BucketReport, S3Backend, S3Settings};
use deploy_state::{DeploymentId, Full, LedgerError, LedgerState, find_legacy, migrate_legacy};

use crate::error::CliError;
use crate::printer::Printer;
use crate::session::Session;

pub fn local(session: &Session) -> Arc<dyn Full> {
    Arc::new(LocalBackend::new(session.local_dir()))
}

/// The state bucket: `[state] bucket` (or `DEPLOY_STATE_BUCKET`), else one derived from the
/// project, the account and the region.
pub async fn bucket(session: &Session) -> Result<String, CliError> {
    if let Some(b) = &session.config.state.bucket {
        return Ok(b.clone());
    }
    let account = session.account().await.map_err(|why| {
        CliError::failed(format!(
            "the state bucket's name is derived from the AWS account, which is unknown: {why}; \
             set [state] bucket (or DEPLOY_STATE_BUCKET), or fix the credentials"
        ))
    })?;
    let p = &session.config.project;
    Ok(default_state_bucket(&p.name, &account, &p.region))
}

pub fn s3_settings(session: &Session, bucket: String) -> S3Settings {
    let c = &session.config;
    S3Settings {
        bucket,
        prefix: c.state.prefix.clone(),
        region: c
            .state
            .region
            .clone()
            .unwrap_or_else(|| c.project.region.clone()),
        kms_key_id: c.state.kms_key_id.clone(),
        lease: c.state.lock_lease,
        local_dir: session.local_dir(),
        emulator: c.aws.endpoint_url.is_some(),
    }
}

/// Connects to the S3 state; with `create`, makes the bucket when it does not exist.
pub async fn s3(session: &Session, create: bool) -> Result<Arc<dyn Full>, CliError> {
    Ok(s3_backend(session, create).await? as Arc<dyn Full>)
}

pub async fn s3_backend(session: &Session, create: bool) -> Result<Arc<S3Backend>, CliError> {
    let settings = s3_settings(session, bucket(session).await?);
    let sdk = deploy_steps::aws::sdk_config(&session.config).await;
    let backend = S3Backend::connect(settings, &sdk);
    match backend.ensure_bucket(create).await? {
        BucketReport::Created => session.printer.info(&format!(
            "created the state bucket s3://{} (versioning on, encrypted, public access blocked, \
             TLS only); `deploy destroy` never deletes it",
            backend.settings().bucket
        )),
        BucketReport::Exists { warnings } => {
            for w in warnings {
                session.printer.warn(&w);
            }
        }
        BucketReport::Missing => {}
    }
    Ok(Arc::new(backend))
}

/// Moves a ledger of the earlier flat layout (directly in the state root) into its deployment's
/// directory, the first time any command runs. Returns where it came from.
pub fn migrate_flat_layout(
    root: &Path,
    identity: &DeploymentId,
    printer: &Printer,
) -> Result<Option<String>, CliError> {
    let Some(legacy) = find_legacy(root) else {
        return Ok(None);
    };
    let owner = legacy.identity.clone().unwrap_or_else(|| identity.clone());
    let target = root.join(owner.slug());
    let moved = migrate_legacy(&legacy, &target)?;
    printer.info(&format!(
        "moved the ledger of the earlier layout into {} ({}): state now lives in one directory \
         per deployment",
        target.display(),
        moved.join(", ")
    ));
    Ok(owner
        .same_deployment(identity)
        .then(|| root.display().to_string()))
}

/// A deployment a state location holds: where, and its ledger (or why it cannot be read).
pub struct Listed {
    pub location: String,
    pub state: Result<LedgerState, LedgerError>,
}

/// Every deployment the configured state holds: the directories under the local root, or the
/// ledgers in the bucket.
pub async fn deployments(session: &Session) -> Result<Vec<Listed>, CliError> {
    let backend = session.backend(false).await?;
    Ok(backend
        .deployments()
        .await?
        .into_iter()
        .map(|(location, bytes)| Listed {
            state: deploy_state::parse_state(&location, &bytes),
            location,
        })
        .collect())
}

/// Other deployments of this project and environment (another region or account) the state
/// holds: said before a run, so a changed `region` is never a silent second stack.
pub async fn siblings(session: &Session) -> Vec<(DeploymentId, String)> {
    let me = &session.identity;
    let Ok(all) = deployments(session).await else {
        return Vec::new();
    };
    all.into_iter()
        .filter_map(|l| {
            let state = l.state.ok()?;
            let live = state.destroyed_at.is_none() && !state.steps.is_empty();
            let id = state.identity?;
            let sibling = live
                && id.project == me.project
                && id.environment == me.environment
                && !id.same_deployment(me);
            sibling.then_some((id, l.location))
        })
        .collect()
}

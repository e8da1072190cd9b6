//! `deploy state bootstrap`, `deploy state migrate --to s3|local`, `deploy unlock --force`.

use std::sync::Arc;

use deploy_config::StateBackend;
use deploy_state::backend::Located;
use deploy_state::backend::local::LocalBackend;
use deploy_state::migrate::{copy_deployment, retire_source};
use deploy_state::{Full, LockHolder};

use crate::cli::{BackendKind, StateAction, StateArgs, UnlockArgs};
use crate::error::{self, CliError, CliResult};
use crate::session::Session;
use crate::store;

pub async fn exec(session: &Session, args: &StateArgs) -> CliResult {
    match &args.action {
        StateAction::Bootstrap => {
            if !session.uses_s3() {
                return Err(CliError::usage(
                    "the state backend is local: there is no bucket to bootstrap; set [state] \
                     backend = \"s3\" (and bucket) in deploy.toml, or DEPLOY_STATE_BUCKET",
                ));
            }
            let b = store::s3_backend(session, true).await?;
            session.printer.info(&format!(
                "the state of {} lives at {}",
                session.identity,
                b.location()
            ));
            Ok(error::OK)
        }
        StateAction::Migrate(m) => migrate(session, m.to).await,
    }
}

async fn migrate(session: &Session, to: BackendKind) -> CliResult {
    let local: Arc<dyn Full> = Arc::new(LocalBackend::new(session.local_dir()));
    let s3: Arc<dyn Full> = store::s3_backend(session, to == BackendKind::S3).await?;
    let (src, dst, name) = match to {
        BackendKind::S3 => (local, s3, "s3"),
        BackendKind::Local => (s3, local, "local"),
    };
    let holder = LockHolder::current("deploy state migrate");
    let (_src_lock, _) = src.lock(&holder, session.wait_lock).await?;
    let (_dst_lock, _) = dst.lock(&holder, session.wait_lock).await?;
    let copied = copy_deployment(src.as_ref(), dst.as_ref()).await?;
    retire_source(src.as_ref(), name).await?;
    let next = match (to, session.config.state.backend) {
        (BackendKind::S3, StateBackend::Local) => format!(
            "\nNow set [state] backend = \"s3\" and bucket = \"{}\" in deploy.toml (or \
             DEPLOY_STATE_BUCKET in CI): the local ledger was retired",
            store::bucket(session).await?
        ),
        (BackendKind::Local, StateBackend::S3) => {
            "\nNow remove [state] backend/bucket from deploy.toml (and DEPLOY_STATE_BUCKET): the \
             S3 ledger was retired"
                .to_string()
        }
        _ => String::new(),
    };
    session.printer.out(&format!(
        "Moved the state of {} from {} to {}: the ledger, {} audit entries, {} step logs{}.{next}",
        session.identity,
        src.location(),
        dst.location(),
        copied.audit_entries,
        copied.logs,
        if copied.terraform_state {
            " and Terraform's state"
        } else {
            ""
        },
    ));
    Ok(error::OK)
}

pub async fn unlock(session: &Session, args: &UnlockArgs) -> CliResult {
    let backend = session.backend(false).await?;
    if !args.force {
        let who = backend
            .holder()
            .await?
            .map_or_else(|| "nobody holds it".to_string(), |h| h.describe());
        return Err(CliError::usage(format!(
            "`deploy unlock` removes the run lock of {} ({who}); a run still going would lose it. \
             Pass --force to do it",
            backend.location()
        )));
    }
    match backend.force_unlock().await? {
        Some(h) => session.printer.info(&format!(
            "removed the lock of {} held by {}",
            backend.location(),
            h.describe()
        )),
        None => session
            .printer
            .info("the lock was not held: nothing removed"),
    }
    Ok(error::OK)
}

//! What every command needs: the configuration, the deployment's identity, where its state
//! lives, the printer, and (for commands that touch AWS) the environment steps run in.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use deploy_config::{Config, Overrides, StateBackend};
use deploy_state::{
    DeploymentId, EmulatorRecord, Full, Ledger, LockHolder, OnCorrupt, check_account,
    emulator_record,
};
use deploy_steps::Env;
use deploy_steps::emulator;
use deploy_steps::engine::Cancel;
use tokio::sync::OnceCell;

use crate::cli::Global;
use crate::error::CliError;
use crate::printer::Printer;
use crate::store;

pub struct Session {
    pub config: Config,
    /// The local state root (`.deployment-state/` beside the configuration, or `--state-dir`):
    /// one directory per deployment, and what is per machine.
    pub state_root: PathBuf,
    /// (project, environment, region); the account is learnt from STS.
    pub identity: DeploymentId,
    pub printer: Arc<Printer>,
    pub wait_lock: Option<Duration>,
    /// A ledger of the earlier flat layout was moved into place: from where.
    migrated_from: Option<String>,
    account: OnceCell<Result<String, String>>,
}

/// A ledger opened for a run, with the environment its steps see.
pub struct Opened {
    pub env: Env,
    pub ledger: Ledger,
}

impl Session {
    pub fn new(g: &Global, printer: Arc<Printer>) -> Result<Session, CliError> {
        let mut overrides = Overrides::from_env();
        overrides.local = g.local.enabled;
        let path = match &g.config.path {
            Some(p) => p.clone(),
            None => {
                let cwd = std::env::current_dir()
                    .map_err(|e| CliError::usage(format!("no current directory: {e}")))?;
                deploy_config::find(&cwd).ok_or_else(|| {
                    CliError::usage(format!(
                        "no {} in {} or any directory above it: write one with `deploy init` \
                         (`deploy init --defaults` asks nothing), or name one with --config \
                         (DEPLOY_CONFIG)",
                        deploy_config::FILE_NAME,
                        cwd.display()
                    ))
                })?
            }
        };
        let config = deploy_config::load(&path, true, &overrides)?;
        for w in &config.warnings {
            printer.warn(w);
        }
        let state_root = g
            .state_dir
            .path
            .clone()
            .unwrap_or_else(|| config.base_dir.join(".deployment-state"));
        let state_root = std::path::absolute(&state_root).unwrap_or(state_root);
        let p = &config.project;
        let identity = DeploymentId::new(&p.name, &p.environment, &p.region);
        let migrated_from = store::migrate_flat_layout(&state_root, &identity, &printer)?;
        Ok(Session {
            config,
            state_root,
            identity,
            printer,
            wait_lock: g.wait_lock.duration,
            migrated_from,
            account: OnceCell::new(),
        })
    }

    /// A configured profile that does not exist (named, with the ones that do).
    fn profile_problem(&self) -> Option<String> {
        let profile = self.config.aws.profile.as_deref()?;
        deploy_steps::aws::profile_problem(profile)
    }

    /// This machine's directory for the deployment.
    pub fn local_dir(&self) -> PathBuf {
        self.state_root.join(self.identity.slug())
    }

    pub fn uses_s3(&self) -> bool {
        self.config.state.backend == StateBackend::S3
    }

    /// The caller's AWS account (one STS call per process), or why it is unknown.
    pub async fn account(&self) -> Result<String, String> {
        self.account
            .get_or_init(|| async {
                if let Some(why) = self.profile_problem() {
                    return Err(why);
                }
                let target = self.target(None).map_err(|e| e.message)?;
                let env = self.make_env(target, Cancel::new());
                let aws = env.aws().await.map_err(|e| e.message)?;
                deploy_steps::caller::identify(aws)
                    .await
                    .map(|id| id.account)
                    .map_err(|e| e.message)
            })
            .await
            .clone()
    }

    /// The backend of this deployment's state. `create` makes a missing S3 bucket.
    pub async fn backend(&self, create: bool) -> Result<Arc<dyn Full>, CliError> {
        if !self.uses_s3() {
            return Ok(store::local(self));
        }
        store::s3(self, create).await
    }

    /// Opens the ledger for a run of `command`: the emulator started when `--local` needs it,
    /// the lock taken, and the caller's account checked against the one recorded (a mismatch
    /// stops here, before anything changes).
    pub async fn open(&self, command: &str, cancel: Cancel) -> Result<Opened, CliError> {
        if let Some(why) = self.profile_problem() {
            return Err(CliError::usage(why));
        }
        let target = self.target(Some(()))?;
        let backend = self.backend(true).await?;
        let mut ledger = self
            .lock_backend(backend, command, OnCorrupt::Refuse)
            .await?;
        match self.account().await {
            Ok(account) => ledger.bind_account(&account)?,
            // Preflight reports missing credentials, and the ledger records it.
            Err(why) => self
                .printer
                .verbose(&format!("the AWS account is not known yet: {why}")),
        }
        let env = self.env_for(&ledger, target, cancel);
        Ok(Opened { env, ledger })
    }

    /// Opens the ledger to read it, for commands that also call AWS (`plan`, `status --live`):
    /// the account is checked first.
    pub async fn open_read_live(&self) -> Result<Opened, CliError> {
        let target = self.target(None)?;
        let ledger = Ledger::open_read(self.backend(false).await?).await?;
        match self.account().await {
            Ok(account) => check_account(ledger.state(), &account, &ledger.location())?,
            // What cannot be checked is reported by the command as unknown.
            Err(why) => self
                .printer
                .verbose(&format!("the AWS account is not known: {why}")),
        }
        let env = self.env_for(&ledger, target, Cancel::new());
        Ok(Opened { env, ledger })
    }

    /// Opens the ledger to read it, calling no AWS API (for the local backend).
    pub async fn read_ledger(&self) -> Result<Ledger, CliError> {
        Ok(Ledger::open_read(self.backend(false).await?).await?)
    }

    /// Takes the lock on the ledger without calling AWS (`reset`, `emulator stop`).
    pub async fn lock(&self, command: &str, on_corrupt: OnCorrupt) -> Result<Ledger, CliError> {
        let backend = self.backend(false).await?;
        self.lock_backend(backend, command, on_corrupt).await
    }

    async fn lock_backend(
        &self,
        backend: Arc<dyn Full>,
        command: &str,
        on_corrupt: OnCorrupt,
    ) -> Result<Ledger, CliError> {
        let holder = LockHolder::current(command);
        let (mut ledger, recovery) =
            Ledger::open_locked(backend, &holder, self.wait_lock, &self.identity, on_corrupt)
                .await?;
        if let Some(prev) = &recovery.previous_holder {
            self.printer.warn(&format!(
                "the previous run ({}) ended without releasing the lock{}; taking over",
                prev.describe(),
                prev.heartbeat
                    .map(|t| format!(" (last heartbeat {t})"))
                    .unwrap_or_default()
            ));
        }
        for step in &recovery.interrupted {
            self.printer.warn(&format!(
                "step {step} was left in progress: now marked interrupted"
            ));
        }
        if let Some(aside) = &recovery.set_aside {
            self.printer
                .warn(&format!("the unreadable state file was kept as {aside}"));
        }
        if let Some(from) = &self.migrated_from {
            ledger.note_migrated(from).await?;
        }
        Ok(ledger)
    }

    fn env_for(&self, ledger: &Ledger, target: String, cancel: Cancel) -> Env {
        let mut env = self.make_env(target, cancel);
        env.terraform_backend = ledger.backend().terraform();
        env.state = Some(ledger.backend().clone() as Arc<dyn deploy_state::backend::Objects>);
        env
    }

    fn make_env(&self, target: String, cancel: Cancel) -> Env {
        Env::new(
            self.config.clone(),
            self.local_dir(),
            deploy_state::TerraformBackend::Local,
            target,
            cancel,
        )
    }

    pub fn emulator_record(&self) -> Option<EmulatorRecord> {
        emulator_record::load(&self.state_root)
    }

    /// Names the AWS endpoint: the region, the endpoint URL, or the emulator process. With
    /// `start` (a run that changes things) and `--local`, starts ministack when nothing answers.
    fn target(&self, start: Option<()>) -> Result<String, CliError> {
        let c = &self.config;
        let Some(endpoint) = c.aws.endpoint_url.clone() else {
            return Ok(format!("aws {}", c.project.region));
        };
        if !c.local {
            return Ok(format!("endpoint {endpoint}"));
        }
        let recorded = self.emulator_record();
        match emulator::probe(&endpoint) {
            Some(answering) => {
                if let Some(r) = recorded
                    .as_ref()
                    .filter(|r| r.endpoint == endpoint && emulator::record_alive(r))
                {
                    return Ok(describe(r));
                }
                if start.is_some() {
                    self.printer.info(&format!(
                        "using {} already running at {endpoint}",
                        answering.as_str()
                    ));
                }
                Ok(format!("{} at {endpoint}", answering.as_str()))
            }
            None if start.is_none() => Ok(format!("nothing answering at {endpoint}")),
            None => {
                self.printer.status(
                    "Starting",
                    console::Style::new().cyan(),
                    &format!("ministack on {endpoint}"),
                );
                let log = self.state_root.join("ministack.log");
                deploy_state::fsutil::private_dir(&self.state_root)
                    .map_err(|e| CliError::failed(format!("{}: {e}", self.state_root.display())))?;
                let record = emulator::start_ministack(&endpoint, &log, Duration::from_secs(30))?;
                self.printer.info(&format!(
                    "ministack started (pid {}), log {}; stop it with `deploy emulator stop`",
                    record.pid.unwrap_or(0),
                    log.display()
                ));
                emulator_record::save(&self.state_root, Some(&record))?;
                Ok(describe(&record))
            }
        }
    }
}

fn describe(r: &EmulatorRecord) -> String {
    format!(
        "{} pid {} started {} at {}",
        r.kind,
        r.pid.map_or("?".into(), |p| p.to_string()),
        r.started_at,
        r.endpoint
    )
}

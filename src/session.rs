//! What every command needs: the configuration, the ledger directory, the printer, and (for
//! commands that touch AWS) the environment steps run in.

use std::path::PathBuf;
use std::time::Duration;

use deploy_config::{Config, Overrides};
use deploy_state::{EmulatorRecord, Ledger, LedgerState, LockHolder};
use deploy_steps::Env;
use deploy_steps::emulator;
use deploy_steps::engine::Cancel;

use crate::cli::Global;
use crate::error::CliError;
use crate::printer::Printer;

pub struct Session {
    pub config: Config,
    pub state_dir: PathBuf,
    pub printer: Printer,
    pub wait_lock: Option<Duration>,
}

impl Session {
    pub fn new(g: &Global) -> Result<Session, CliError> {
        let printer = Printer::new(g);
        let mut overrides = Overrides::from_env();
        overrides.local = g.local;
        let (path, required) = match &g.config {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from("deploy.toml"), false),
        };
        let config = deploy_config::load(&path, required, &overrides)?;
        let state_dir = g
            .state_dir
            .clone()
            .unwrap_or_else(|| config.base_dir.join(".deployment-state"));
        Ok(Session {
            config,
            state_dir,
            printer,
            wait_lock: g.wait_lock,
        })
    }

    /// Takes the ledger lock for `command`, reporting what a dead previous run left behind.
    pub fn lock(&self, command: &str) -> Result<Ledger, CliError> {
        let holder = LockHolder::current(command);
        let (ledger, recovery) = Ledger::open_locked(&self.state_dir, &holder, self.wait_lock)?;
        if let Some(prev) = &recovery.previous_holder {
            self.printer.warn(&format!(
                "the previous run (pid {}, {}) ended without releasing the ledger; taking over",
                prev.pid, prev.command
            ));
        }
        for step in &recovery.interrupted {
            self.printer.warn(&format!(
                "step {step} was left in progress: now marked interrupted"
            ));
        }
        Ok(ledger)
    }

    pub fn read_ledger(&self) -> Result<Ledger, CliError> {
        Ok(Ledger::open_read(&self.state_dir)?)
    }

    /// The environment for steps that change the deployment. In `--local` mode, starts
    /// ministack when nothing answers, and records it in `ledger`.
    pub fn env(&self, ledger: &mut Ledger, cancel: Cancel) -> Result<Env, CliError> {
        let recorded = ledger.state().emulator.clone();
        let target = self.target(recorded.as_ref(), Some(ledger))?;
        Ok(self.make_env(target, cancel))
    }

    /// The environment for read-only commands (`plan`, `status --live`): starts nothing.
    pub fn env_read_only(&self, state: &LedgerState) -> Result<Env, CliError> {
        let target = self.target(state.emulator.as_ref(), None)?;
        Ok(self.make_env(target, Cancel::never()))
    }

    fn make_env(&self, target: String, cancel: Cancel) -> Env {
        Env::new(self.config.clone(), self.state_dir.clone(), target, cancel)
    }

    /// Names the AWS endpoint: the region, the endpoint URL, or the emulator process.
    fn target(
        &self,
        recorded: Option<&EmulatorRecord>,
        start_in: Option<&mut Ledger>,
    ) -> Result<String, CliError> {
        let c = &self.config;
        let Some(endpoint) = c.aws.endpoint_url.clone() else {
            return Ok(format!("aws {}", c.project.region));
        };
        if !c.local {
            return Ok(format!("endpoint {endpoint}"));
        }
        match emulator::probe(&endpoint) {
            Some(kind) => {
                if let Some(r) =
                    recorded.filter(|r| r.endpoint == endpoint && emulator::record_alive(r))
                {
                    return Ok(describe(r));
                }
                self.printer.info(&format!(
                    "using {} already running at {endpoint}",
                    kind.as_str()
                ));
                Ok(format!("{} at {endpoint}", kind.as_str()))
            }
            None => {
                let Some(ledger) = start_in else {
                    return Ok(format!("nothing answering at {endpoint}"));
                };
                self.printer.status(
                    "Starting",
                    console::Style::new().cyan(),
                    &format!("ministack on {endpoint}"),
                );
                let log = self.state_dir.join("ministack.log");
                let record = emulator::start_ministack(&endpoint, &log, Duration::from_secs(30))?;
                self.printer.info(&format!(
                    "ministack started (pid {}), log {}; stop it with `deploy emulator stop`",
                    record.pid.unwrap_or(0),
                    log.display()
                ));
                ledger.set_emulator(Some(record.clone()))?;
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

//! Local AWS emulators for `--local`: recognise one that answers, start ministack when none
//! does, and stop one that `deploy` started.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use deploy_state::{EmulatorRecord, pid_alive};
use jiff::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmulatorKind {
    Ministack,
    LocalStack,
    Moto,
    /// Something answers HTTP there, but none of the known health endpoints.
    Unknown,
}

impl EmulatorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EmulatorKind::Ministack => "ministack",
            EmulatorKind::LocalStack => "localstack",
            EmulatorKind::Moto => "moto",
            EmulatorKind::Unknown => "an unrecognised server",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error(
        "nothing answers at {endpoint} and `ministack` is not installed; install it with \
         `pip install ministack` (or `pipx install ministack`), or start an emulator there yourself"
    )]
    NotInstalled { endpoint: String },
    #[error("could not start ministack: {0}")]
    Spawn(std::io::Error),
    #[error(
        "ministack (pid {pid}) did not answer {endpoint}/_ministack/health within {secs}s; see {}",
        log.display()
    )]
    NotReady {
        pid: u32,
        endpoint: String,
        secs: u64,
        log: PathBuf,
    },
    #[error("--local needs a loopback endpoint with a port (http://127.0.0.1:PORT), got {0}")]
    BadEndpoint(String),
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into()
}

/// Which emulator answers at `endpoint`, if any.
pub fn probe(endpoint: &str) -> Option<EmulatorKind> {
    let agent = agent(Duration::from_millis(800));
    let ok = |path: &str| {
        agent
            .get(&format!("{endpoint}{path}"))
            .call()
            .map(|r| (r.status().as_u16(), true))
            .unwrap_or((0, false))
    };
    let (status, reachable) = ok("/_ministack/health");
    if status == 200 {
        return Some(EmulatorKind::Ministack);
    }
    if !reachable {
        return None;
    }
    if ok("/_localstack/health").0 == 200 {
        return Some(EmulatorKind::LocalStack);
    }
    if ok("/moto-api/").0 == 200 {
        return Some(EmulatorKind::Moto);
    }
    Some(EmulatorKind::Unknown)
}

/// The port of a loopback endpoint such as `http://127.0.0.1:4566`.
pub fn loopback_port(endpoint: &str) -> Result<u16, EmulatorError> {
    let bad = || EmulatorError::BadEndpoint(endpoint.to_string());
    let rest = endpoint.strip_prefix("http://").ok_or_else(bad)?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    let (host, port) = hostport.rsplit_once(':').ok_or_else(bad)?;
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(bad());
    }
    port.parse().map_err(|_| bad())
}

/// The kernel's start time of `pid` (clock ticks since boot), to tell a reused pid apart.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22, counted after the parenthesised command name (which may contain spaces).
    let after = &stat[stat.rfind(')')? + 2..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the process a record names is still that process.
pub fn record_alive(r: &EmulatorRecord) -> bool {
    match r.pid {
        Some(pid) => {
            pid_alive(pid) && (r.process_start.is_none() || process_start(pid) == r.process_start)
        }
        None => true,
    }
}

/// Starts ministack detached (its own process group, so Ctrl-C on `deploy` leaves it running),
/// bound to loopback only, logging to `log`; waits until its health endpoint answers.
pub fn start_ministack(
    endpoint: &str,
    log: &Path,
    ready_within: Duration,
) -> Result<EmulatorRecord, EmulatorError> {
    use std::os::unix::process::CommandExt;
    let port = loopback_port(endpoint)?;
    let bin = which::which("ministack").map_err(|_| EmulatorError::NotInstalled {
        endpoint: endpoint.to_string(),
    })?;
    let out = deploy_state::fsutil::append(log).map_err(EmulatorError::Spawn)?;
    let err = out.try_clone().map_err(EmulatorError::Spawn)?;
    let child = Command::new(bin)
        .env("BIND_HOST", "127.0.0.1")
        .env("GATEWAY_PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(EmulatorError::Spawn)?;
    let pid = child.id();
    // The child is deliberately not waited for: it outlives this process.
    std::mem::forget(child);
    let deadline = Instant::now() + ready_within;
    while Instant::now() < deadline {
        if probe(endpoint) == Some(EmulatorKind::Ministack) {
            return Ok(EmulatorRecord {
                kind: "ministack".into(),
                endpoint: endpoint.to_string(),
                pid: Some(pid),
                port,
                started_at: Timestamp::now(),
                started_by_deploy: true,
                process_start: process_start(pid),
            });
        }
        if !pid_alive(pid) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(EmulatorError::NotReady {
        pid,
        endpoint: endpoint.to_string(),
        secs: ready_within.as_secs(),
        log: log.to_path_buf(),
    })
}

/// Stops an emulator `deploy` started: SIGTERM, then SIGKILL if it has not gone within the
/// grace period. Returns false when there was nothing to stop.
pub fn stop(r: &EmulatorRecord, grace: Duration) -> bool {
    let Some(pid) = r.pid.filter(|_| r.started_by_deploy && record_alive(r)) else {
        return false;
    };
    let Some(p) = rustix::process::Pid::from_raw(pid as i32) else {
        return false;
    };
    let _ = rustix::process::kill_process(p, rustix::process::Signal::TERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !pid_alive(pid) || process_start(pid).is_none() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
    true
}

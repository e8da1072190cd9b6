//! A real AWS emulator in server mode on a free loopback port, one per test process.
//!
//! The emulator is spawned from a dedicated thread that lives as long as the test process, with
//! `PR_SET_PDEATHSIG`, so the kernel kills it when the process ends, however it ends (normal
//! exit, panic, abort). It never uses port 4566, which belongs to a developer's `--local` runs.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ministack,
    Moto,
}

#[derive(Debug)]
pub struct Emulator {
    pub kind: Kind,
    pub endpoint: String,
    pub pid: u32,
}

/// Where `.ci/run` installs ministack; `PATH` is tried first.
pub fn ministack_binary() -> String {
    if let Ok(p) = std::env::var("MINISTACK_BIN") {
        return p;
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let venv = format!("{home}/.cache/deploy-ci/ministack-venv/bin/ministack");
    if std::path::Path::new(&venv).exists() {
        venv
    } else {
        "ministack".into()
    }
}

pub fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port != 4566 {
            return port;
        }
    }
}

fn health_path(kind: Kind) -> &'static str {
    match kind {
        Kind::Ministack => "/_ministack/health",
        Kind::Moto => "/moto-api/",
    }
}

pub fn answers(endpoint: &str, path: &str) -> bool {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(500)))
        .build()
        .into();
    agent.get(&format!("{endpoint}{path}")).call().is_ok()
}

/// Starts an emulator of `kind`; it dies with this process.
pub fn start(kind: Kind) -> Emulator {
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        use std::os::unix::process::CommandExt;
        let mut cmd = match kind {
            Kind::Ministack => {
                let mut c = Command::new(ministack_binary());
                c.env("BIND_HOST", "127.0.0.1")
                    .env("GATEWAY_PORT", port.to_string());
                c
            }
            Kind::Moto => {
                let mut c = Command::new("moto_server");
                c.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                    .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true");
                c
            }
        };
        let log = std::env::temp_dir().join(format!("deploy-test-emulator-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        // SAFETY: only an async-signal-safe prctl between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                rustix::process::set_parent_process_death_signal(Some(
                    rustix::process::Signal::KILL,
                ))
                .map_err(std::io::Error::from)
            });
        }
        let mut child = cmd
            .spawn()
            .expect("start the emulator (is it installed? see .ci/run)");
        tx.send(child.id()).unwrap();
        // This thread must outlive the tests: the death signal follows the spawning thread.
        let _ = child.wait();
    });
    let pid = rx.recv().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !answers(&endpoint, health_path(kind)) {
        assert!(
            Instant::now() < deadline,
            "{kind:?} did not start on {endpoint}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Emulator {
        kind,
        endpoint,
        pid,
    }
}

static MINISTACK: OnceLock<Emulator> = OnceLock::new();
static MOTO: OnceLock<Emulator> = OnceLock::new();

/// The shared emulator of this test process.
pub fn shared(kind: Kind) -> &'static Emulator {
    match kind {
        Kind::Ministack => MINISTACK.get_or_init(|| start(kind)),
        Kind::Moto => MOTO.get_or_init(|| start(kind)),
    }
}

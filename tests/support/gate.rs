//! A gate for the terraform stand-in `tests/fixtures/terraform-standin-gated`: the stand-in
//! blocks on a FIFO at a chosen invocation until the test opens the gate, so a test can act
//! (signal, kill, start a second run) while a real `deploy` is inside a step.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::{Kind, TestContext, repo_root};

pub struct Gate {
    dir: tempfile::TempDir,
}

pub enum At<'a> {
    /// The n-th invocation of terraform.
    Invocation(u32),
    /// The first invocation of this subcommand (`destroy`, `apply`, ...).
    Subcommand(&'a str),
}

impl Gate {
    pub fn new() -> Gate {
        let dir = tempfile::tempdir().unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.path().join("gate"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        Gate { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Points `ctx`'s terraform at the gated stand-in.
    pub fn apply(&self, ctx: TestContext, at: At<'_>) -> TestContext {
        let standin = repo_root().join("tests/fixtures/terraform-standin-gated");
        let ctx = ctx
            .terraform_binary(standin.to_str().unwrap())
            .env("STANDIN_DIR", self.path().to_str().unwrap());
        match at {
            At::Invocation(n) => ctx.env("STANDIN_GATE_AT", &n.to_string()),
            At::Subcommand(s) => ctx.env("STANDIN_GATE_ON", s),
        }
    }

    /// A ministack-backed context gated at the n-th terraform invocation.
    pub fn context(&self, at: u32) -> TestContext {
        self.apply(TestContext::with(Kind::Ministack), At::Invocation(at))
    }

    /// Waits (polling, with a deadline) until the stand-in is blocked at the gate.
    pub fn wait_closed(&self, within: Duration) {
        let mark = self.path().join("mark");
        let deadline = Instant::now() + within;
        while !mark.exists() {
            assert!(
                Instant::now() < deadline,
                "the stand-in never reached the gate"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Lets a blocked stand-in go on (no-op if nobody waits).
    pub fn open(&self) {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(self.path().join("gate"));
        if let Ok(mut f) = f {
            let _ = f.write_all(b"go\n");
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.open();
    }
}

/// Spawns the real binary (stderr piped) so the test can signal it.
pub fn spawn(ctx: &TestContext, args: &[&str]) -> Child {
    let mut cmd = ctx.std_command();
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

pub fn signal(child: &Child, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, sig).unwrap();
}

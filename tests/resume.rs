//! Real processes competing for the ledger: a second run while the first holds the lock, a run
//! killed outright, and Ctrl-C. A gated terraform stand-in (tests/fixtures) holds the first run
//! inside a step until the test opens the gate.

mod support;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use predicates::prelude::*;
use support::{Kind, TestContext};

struct Gate {
    dir: tempfile::TempDir,
}

impl Gate {
    /// A gate that closes on the stand-in's `at`-th invocation.
    fn new() -> Gate {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("gate");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        Gate { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn context(&self, at: u32) -> TestContext {
        let standin = support::repo_root().join("tests/fixtures/terraform-standin-gated");
        TestContext::with(Kind::Ministack)
            .terraform_binary(standin.to_str().unwrap())
            .env("STANDIN_DIR", self.path().to_str().unwrap())
            .env("STANDIN_GATE_AT", &at.to_string())
    }

    /// Waits (polling, with a deadline) until the stand-in is blocked at the gate.
    fn wait_closed(&self) {
        let mark = self.path().join("mark");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !mark.exists() {
            assert!(
                Instant::now() < deadline,
                "the stand-in never reached the gate"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Lets a blocked stand-in go on (no-op if nobody waits).
    fn open(&self) {
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

fn spawn(ctx: &TestContext, args: &[&str]) -> Child {
    let mut cmd = ctx.std_command();
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, sig).unwrap();
}

#[test]
fn a_second_run_exits_3_naming_the_first_runs_pid() {
    let gate = Gate::new();
    let ctx = gate.context(1);
    let mut first = spawn(&ctx, &["run", "preflight"]);
    gate.wait_closed();
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "deployment is locked by pid {} (deploy run preflight) since",
            first.id()
        )));
    gate.open();
    assert!(first.wait().unwrap().success());
    assert_eq!(ctx.step_status("preflight"), "completed");
}

#[test]
fn a_killed_run_is_resumed_by_the_next_run() {
    let gate = Gate::new();
    let ctx = gate.context(1);
    let mut first = spawn(&ctx, &["all", "--auto-approve", "--only", "preflight"]);
    gate.wait_closed();
    signal(&first, rustix::process::Signal::KILL);
    first.wait().unwrap();
    assert_eq!(ctx.step_status("preflight"), "in_progress");
    gate.open();

    ctx.deploy()
        .args(["all", "--auto-approve", "--only", "preflight"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "ended without releasing the ledger",
        ))
        .stderr(predicate::str::contains("Completed preflight"));
    let state = ctx.state_json();
    assert_eq!(state["steps"]["preflight"]["status"], "completed");
    let audit = std::fs::read_to_string(ctx.state_dir().join("checkpoints.log")).unwrap();
    assert!(audit.contains("\"to\":\"interrupted\""), "{audit}");
}

#[test]
fn ctrl_c_records_interrupted_and_exits_130() {
    let gate = Gate::new();
    let ctx = gate.context(1);
    let mut first = spawn(&ctx, &["all", "--auto-approve", "--only", "preflight"]);
    gate.wait_closed();
    signal(&first, rustix::process::Signal::INT);
    let status = first.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let rec = &ctx.state_json()["steps"]["preflight"];
    assert_eq!(rec["status"], "interrupted");
    // The lock was released: the next run goes ahead and resumes.
    gate.open();
    ctx.deploy()
        .args(["all", "--auto-approve", "--only", "preflight"])
        .assert()
        .success()
        .stderr(
            predicate::str::contains("was interrupted")
                .or(predicate::str::contains("Completed preflight")),
        );
    assert_eq!(ctx.step_status("preflight"), "completed");
}

//! `--local`: start ministack when nothing answers, record it, reuse it, notice when it is gone,
//! and stop only what `deploy` started.

mod support;

use std::time::{Duration, Instant};

use predicates::prelude::*;
use support::TestContext;
use support::emulator::{self, Kind};

/// Kills a process on drop, so a failing test leaves no emulator behind.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(p) = rustix::process::Pid::from_raw(self.0 as i32) {
            let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
        }
    }
}

fn wait_until_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while deploy_state::pid_alive(pid) {
        assert!(Instant::now() < deadline, "pid {pid} still alive");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A context whose `--local` endpoint is a free port, with ministack on PATH.
fn local_context() -> (TestContext, String) {
    let endpoint = format!("http://127.0.0.1:{}", emulator::free_port());
    let bin = std::path::PathBuf::from(emulator::ministack_binary());
    let path = match bin.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => format!("{}:{}", dir.display(), std::env::var("PATH").unwrap()),
        None => std::env::var("PATH").unwrap(),
    };
    let ctx = TestContext::offline()
        .config(&format!("[aws]\nendpoint_url = \"{endpoint}\"\n"))
        .env("PATH", &path);
    (ctx, endpoint)
}

fn recorded_pid(ctx: &TestContext) -> u32 {
    ctx.emulator_json()["pid"]
        .as_u64()
        .expect("emulator recorded") as u32
}

#[test]
fn local_mode_starts_records_reuses_and_notices_a_dead_emulator() {
    let (ctx, endpoint) = local_context();
    ctx.deploy()
        .args(["--local", "all", "--auto-approve", "--only", "preflight"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "Starting ministack on {endpoint}"
        )));
    let pid = recorded_pid(&ctx);
    let _guard = KillOnDrop(pid);
    let rec = ctx.emulator_json().clone();
    assert_eq!(rec["kind"], "ministack");
    assert_eq!(rec["started_by_deploy"], true);
    assert!(emulator::answers(&endpoint, "/_ministack/health"));

    // Second run: the same emulator, nothing to do.
    ctx.deploy()
        .args(["--local", "all", "--auto-approve", "--only", "preflight"])
        .assert()
        .success()
        .stderr(predicate::str::contains("Skipped preflight: up to date"))
        .stderr(predicate::str::contains("Starting ministack").not());
    assert_eq!(recorded_pid(&ctx), pid);

    // The emulator dies, and with it the deployment it held.
    let p = rustix::process::Pid::from_raw(pid as i32).unwrap();
    rustix::process::kill_process(p, rustix::process::Signal::KILL).unwrap();
    wait_until_gone(pid);
    ctx.deploy()
        .args(["--local", "plan"])
        .assert()
        .success()
        .stdout(predicate::str::contains("run   preflight"))
        .stdout(predicate::str::contains(
            "the AWS endpoint it ran against is gone",
        ));
}

#[test]
fn emulator_stop_stops_what_deploy_started() {
    let (ctx, endpoint) = local_context();
    ctx.deploy()
        .args(["--local", "all", "--auto-approve", "--only", "preflight"])
        .assert()
        .success();
    let pid = recorded_pid(&ctx);
    let _guard = KillOnDrop(pid);
    ctx.deploy()
        .args(["emulator", "stop"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "stopped ministack (pid {pid})"
        )));
    wait_until_gone(pid);
    assert!(!emulator::answers(&endpoint, "/_ministack/health"));
    assert!(ctx.emulator_json().is_null());
}

#[test]
fn emulator_stop_leaves_alone_one_deploy_did_not_start() {
    let shared = emulator::shared(Kind::Ministack);
    let ctx =
        TestContext::offline().config(&format!("[aws]\nendpoint_url = \"{}\"\n", shared.endpoint));
    ctx.deploy()
        .args(["--local", "all", "--auto-approve", "--only", "preflight"])
        .assert()
        .success()
        .stderr(predicate::str::contains("using ministack already running"));
    ctx.deploy()
        .args(["emulator", "stop"])
        .assert()
        .success()
        .stderr(predicate::str::contains("nothing stopped"));
    assert!(emulator::answers(&shared.endpoint, "/_ministack/health"));
}

#[test]
fn missing_ministack_says_how_to_install_it() {
    let endpoint = format!("http://127.0.0.1:{}", emulator::free_port());
    let ctx = TestContext::offline()
        .config(&format!("[aws]\nendpoint_url = \"{endpoint}\"\n"))
        .env("PATH", "/usr/bin:/bin");
    ctx.deploy()
        .args(["--local", "all", "--auto-approve", "--only", "preflight"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("pip install ministack"));
}

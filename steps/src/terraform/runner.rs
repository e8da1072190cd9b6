//! Runs one terraform command: the command line, its environment, line-by-line streaming of its
//! output, and what it returned.
//!
//! Interruption: terraform runs in a process group of its own, so a Ctrl-C at the terminal
//! reaches `deploy` only. When the running command is dropped (the engine dropped the step on
//! Ctrl-C), terraform gets exactly one SIGINT, which makes it stop gracefully and write its
//! state; it is killed only if it has not exited after [`super::stop::STOP_GRACE`]. A terraform killed
//! outright mid-apply forgets resources it already created, and the next run then fails with
//! "already exists". [`super::stop::wait_for_stopped`] lets the step's cleanup wait for that stop.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::stop::Running;
use crate::engine::StepError;

/// Variables removed from the inherited environment: they would change what the commands do.
const SCRUBBED: &[&str] = &[
    "TF_CLI_ARGS",
    "TF_CLI_ARGS_init",
    "TF_CLI_ARGS_plan",
    "TF_CLI_ARGS_apply",
    "TF_CLI_ARGS_output",
    "TF_WORKSPACE",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What one terraform command did.
#[derive(Debug, Clone)]
pub struct TfRun {
    pub args: Vec<String>,
    /// The exit code; `None` when terraform was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl TfRun {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The text to look for errors in: stderr when it holds terraform's `Error:` blocks (it
    /// does, with `-no-color`), else stdout then stderr.
    pub fn combined(&self) -> String {
        let has_blocks = self
            .stderr
            .lines()
            .any(|l| l.trim_start_matches(['│', ' ']).starts_with("Error: "));
        if has_blocks {
            self.stderr.clone()
        } else {
            format!("{}\n{}", self.stdout, self.stderr)
        }
    }
}

/// A terraform (or tofu) binary bound to a working directory and an environment.
#[derive(Debug, Clone)]
pub struct Terraform {
    pub program: String,
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Terraform {
    /// `program` is `terraform`, `tofu`, or a path to either. Sets the automation variables and
    /// keeps terraform's data directory inside `dir`.
    pub fn new(program: &str, dir: &Path) -> Self {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        Terraform {
            program: program.to_string(),
            env: vec![
                ("TF_IN_AUTOMATION".into(), "1".into()),
                ("TF_INPUT".into(), "0".into()),
                ("CHECKPOINT_DISABLE".into(), "1".into()),
                (
                    "TF_DATA_DIR".into(),
                    dir.join(".terraform").display().to_string(),
                ),
            ],
            dir,
        }
    }

    /// Sets (or replaces) one environment variable.
    pub fn with_env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.into()));
        self
    }

    pub fn with_envs(self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        vars.into_iter().fold(self, |tf, (k, v)| tf.with_env(&k, v))
    }

    /// The command, ready to spawn (stdin closed, output piped, own process group).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        for var in SCRUBBED {
            cmd.env_remove(var);
        }
        // What terraform writes (state, plan, lock info) is as private as the rest of the
        // ledger: 0600 files, 0700 directories.
        // SAFETY: umask is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
                Ok(())
            });
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `args`, handing every output line to `on_line` as it arrives.
    pub async fn run(
        &self,
        args: &[&str],
        on_line: &mut (dyn FnMut(Stream, &str) + Send),
    ) -> Result<TfRun, StepError> {
        let started = Instant::now();
        let mut child = self
            .command(args)
            .spawn()
            .map_err(|e| self.spawn_error(&e))?;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let readers = [
            child
                .stdout
                .take()
                .map(|o| drain(o, Stream::Stdout, tx.clone())),
            child
                .stderr
                .take()
                .map(|e| drain(e, Stream::Stderr, tx.clone())),
        ];
        drop(tx);
        let mut guard = Running { child: Some(child) };
        let (mut stdout, mut stderr) = (String::new(), String::new());
        while let Some((stream, line)) = rx.recv().await {
            on_line(stream, &line);
            let buf = match stream {
                Stream::Stdout => &mut stdout,
                Stream::Stderr => &mut stderr,
            };
            buf.push_str(&line);
            buf.push('\n');
        }
        for r in readers.into_iter().flatten() {
            let _ = r.await;
        }
        let status = guard
            .child
            .as_mut()
            .expect("taken only on drop")
            .wait()
            .await
            .map_err(|e| StepError::permanent(format!("waiting for {}: {e}", self.program)))?;
        guard.child = None;
        Ok(TfRun {
            args: args.iter().map(|a| a.to_string()).collect(),
            code: status.code(),
            stdout,
            stderr,
            elapsed: started.elapsed(),
        })
    }

    /// Runs `args` and only collects the output.
    pub async fn run_quiet(&self, args: &[&str]) -> Result<TfRun, StepError> {
        self.run(args, &mut |_, _| {}).await
    }

    /// The binary's version (`terraform version -json`), e.g. `terraform 1.11.4`.
    pub async fn version(&self) -> Result<String, StepError> {
        let run = self.run_quiet(&["version", "-json"]).await?;
        if !run.success() {
            return Err(StepError::permanent(format!(
                "`{} version` failed: {}",
                self.program,
                run.combined().trim()
            )));
        }
        Ok(parse_version(&self.program, &run.stdout))
    }

    fn spawn_error(&self, e: &std::io::Error) -> StepError {
        let err = StepError::permanent(format!("cannot run `{}`: {e}", self.program));
        if e.kind() == std::io::ErrorKind::NotFound {
            err.with_hint(
                "install terraform (or OpenTofu) or point `[terraform] binary` in deploy.toml at it",
            )
        } else {
            err
        }
    }
}

/// `name version` from `version -json` output (terraform and tofu both name the field
/// `terraform_version`); the first line of the output when it is not JSON.
pub fn parse_version(program: &str, stdout: &str) -> String {
    let name = Path::new(program)
        .file_name()
        .map_or_else(|| program.to_string(), |n| n.to_string_lossy().to_string());
    match serde_json::from_str::<serde_json::Value>(stdout) {
        Ok(v) => match v["terraform_version"].as_str() {
            Some(ver) => format!("{name} {ver}"),
            None => format!("{name} {}", stdout.trim()),
        },
        Err(_) => format!("{name} {}", stdout.lines().next().unwrap_or("").trim()),
    }
}

/// Reads `pipe` to its end, line by line. It keeps reading after the receiver is gone, so an
/// interrupted terraform never dies of a broken pipe while it writes its state.
fn drain(
    pipe: impl AsyncRead + Unpin + Send + 'static,
    stream: Stream,
    tx: mpsc::UnboundedSender<(Stream, String)>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut reader = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.trim_end_matches(['\n', '\r']).to_string();
                    let _ = tx.send((stream, line));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(dir: &Path) -> Terraform {
        Terraform::new("sh", dir)
    }

    #[tokio::test]
    async fn streams_both_outputs_line_by_line_and_returns_the_exit_code() {
        let dir = tempfile::tempdir().unwrap();
        let mut seen = Vec::new();
        let run = sh(dir.path())
            .run(
                &["-c", "echo one; echo two >&2; printf 'three'; exit 2"],
                &mut |s, l| seen.push((s, l.to_string())),
            )
            .await
            .unwrap();
        assert_eq!(run.code, Some(2));
        assert!(!run.success());
        assert_eq!(run.stdout, "one\nthree\n");
        assert_eq!(run.stderr, "two\n");
        assert!(seen.contains(&(Stream::Stderr, "two".into())));
        assert!(seen.contains(&(Stream::Stdout, "three".into())));
    }

    #[tokio::test]
    async fn sets_automation_variables_and_scrubs_cli_args() {
        let dir = tempfile::tempdir().unwrap();
        let tf = sh(dir.path()).with_env("EXTRA", "x");
        let cmd = tf.command(&["version"]);
        let envs: Vec<_> = cmd.as_std().get_envs().collect();
        assert!(envs.contains(&("TF_CLI_ARGS".as_ref(), None)), "{envs:?}");
        assert!(envs.contains(&("TF_WORKSPACE".as_ref(), None)), "{envs:?}");
        let run = tf
            .run_quiet(&["-c", "echo $TF_IN_AUTOMATION$TF_INPUT$EXTRA-$TF_DATA_DIR"])
            .await
            .unwrap();
        let data_dir = dir.path().join(".terraform");
        assert_eq!(run.stdout.trim(), format!("10x-{}", data_dir.display()));
    }

    #[tokio::test]
    async fn a_missing_binary_is_a_permanent_error_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let err = Terraform::new("no-such-terraform-binary", dir.path())
            .run_quiet(&["version"])
            .await
            .unwrap_err();
        assert!(!err.is_transient());
        assert!(err.message.contains("no-such-terraform-binary"), "{err}");
        assert!(err.hint.unwrap().contains("[terraform] binary"));
    }

    #[test]
    fn version_is_read_from_json_or_the_first_line() {
        let json = r#"{"terraform_version":"1.11.4","platform":"linux_amd64"}"#;
        assert_eq!(
            parse_version("/usr/bin/terraform", json),
            "terraform 1.11.4"
        );
        assert_eq!(
            parse_version("tofu", "OpenTofu v1.8.0\non linux"),
            "tofu OpenTofu v1.8.0"
        );
    }

    #[tokio::test]
    async fn dropping_a_running_command_interrupts_it_gracefully() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("stopped");
        // A stand-in for terraform that stops cleanly on SIGINT, as terraform does. (Python, not
        // a shell trap: a shell cannot trap a signal that was ignored when it started, as SIGINT
        // is under a background job, and terraform, like Python, installs its handler anyway.)
        let script = format!(
            "import signal, sys, time\n\
             def stop(*_):\n    open({marker:?}, 'w').write('graceful')\n    sys.exit(130)\n\
             signal.signal(signal.SIGINT, stop)\n\
             print('ready', flush=True)\n\
             time.sleep(600)\n",
            marker = marker.display().to_string()
        );
        let tf = Terraform::new("python3", dir.path());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut tx = Some(tx);
        let args = ["-c", script.as_str()];
        let mut on_line = move |_: Stream, l: &str| {
            if l == "ready"
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(());
            }
        };
        let run = tf.run(&args, &mut on_line);
        tokio::select! {
            _ = run => panic!("the script never ends by itself"),
            _ = rx => {}
        }
        // The script's own INT trap wrote the marker: it was asked to stop, not killed. (Polled:
        // `wait_for_stopped` is process-wide, and other tests of this binary stop their own.)
        let mut poll = crate::engine::Poller::new(Duration::from_secs(10));
        while std::fs::read_to_string(&marker).unwrap_or_default().trim() != "graceful" {
            assert!(
                poll.wait().await,
                "the script was not stopped through its INT trap"
            );
        }
    }
}

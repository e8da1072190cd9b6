//! Stopping an interrupted terraform gracefully: one SIGINT, then a kill after a grace period.

use std::sync::Mutex;
use std::time::Duration;

use tokio::process::Child;
use tokio::task::JoinHandle;

/// How long an interrupted terraform may take to stop gracefully before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(50);

static STOPPING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// A running terraform; dropping it before it finished stops it gracefully.
pub(super) struct Running {
    pub(super) child: Option<Child>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        if let Some(pid) = child
            .id()
            .and_then(|p| rustix::process::Pid::from_raw(p as i32))
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::INT);
        }
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let task = rt.spawn(async move {
                    if tokio::time::timeout(STOP_GRACE, child.wait())
                        .await
                        .is_err()
                    {
                        let _ = child.kill().await;
                    }
                });
                STOPPING
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(task);
            }
            Err(_) => {
                let _ = child.start_kill();
            }
        }
    }
}

/// Waits until every interrupted terraform has stopped (gracefully, or killed after the grace
/// period).
pub async fn wait_for_stopped() {
    let tasks = std::mem::take(&mut *STOPPING.lock().unwrap_or_else(|e| e.into_inner()));
    for t in tasks {
        let _ = t.await;
    }
}

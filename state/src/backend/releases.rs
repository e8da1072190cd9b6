//! Locks given up by being dropped instead of released.
//!
//! A shared lock is given up with a request, which a `Drop` cannot wait for: the guard spawns
//! it on the runtime it was dropped on and counts it here. A process waits for them before it
//! exits ([`wait_for_releases`]), so a run that stopped early (an error, a refusal) leaves no
//! lock behind for the next one to wait out.

use std::future::Future;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// Releases spawned and not finished (or dropped with their runtime).
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static SETTLED: LazyLock<Notify> = LazyLock::new(Notify::new);

/// One release in flight; counted out when its task ends, however it ends.
struct InFlight;

impl InFlight {
    fn start() -> InFlight {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        SETTLED.notify_waiters();
    }
}

/// Runs `release` on the current runtime, if there is one, counted until it ends. Without a
/// runtime nothing is sent: the lock runs out with its lease.
pub(crate) fn spawn(release: impl Future<Output = ()> + Send + 'static) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let counted = InFlight::start();
    runtime.spawn(async move {
        let _counted = counted;
        release.await;
    });
}

/// Waits, at most `deadline`, until no lock dropped so far is still being given up. Returns
/// whether all were.
pub async fn wait_for_releases(deadline: Duration) -> bool {
    let settled = async {
        loop {
            let notified = SETTLED.notified();
            tokio::pin!(notified);
            // Registered before looking, so a release ending in between still wakes us.
            notified.as_mut().enable();
            if IN_FLIGHT.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    };
    tokio::time::timeout(deadline, settled).await.is_ok()
}

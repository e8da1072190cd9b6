//! Polling with a deadline: how every step waits for a condition (never a fixed sleep).

use std::time::{Duration, Instant};

/// Delays between checks grow from `initial` to `max`; no wait goes past the deadline.
#[derive(Debug, Clone)]
pub struct Poller {
    deadline: Instant,
    delay: Duration,
    max: Duration,
}

impl Poller {
    pub fn new(timeout: Duration) -> Self {
        Self::with_delays(timeout, Duration::from_millis(100), Duration::from_secs(2))
    }

    pub fn with_delays(timeout: Duration, initial: Duration, max: Duration) -> Self {
        Poller {
            deadline: Instant::now() + timeout,
            delay: initial,
            max,
        }
    }

    pub fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Waits before the next check. `false` once the deadline has passed: check no more.
    pub async fn wait(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        let delay = self.delay.min(self.deadline - now);
        tokio::time::sleep(delay).await;
        self.delay = (self.delay * 3 / 2).min(self.max);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stops_at_the_deadline() {
        let start = Instant::now();
        let mut p = Poller::with_delays(
            Duration::from_millis(120),
            Duration::from_millis(10),
            Duration::from_millis(40),
        );
        let mut checks = 0;
        while p.wait().await {
            checks += 1;
        }
        assert!(checks >= 3, "{checks}");
        assert!(p.expired());
        assert!(start.elapsed() < Duration::from_millis(400));
    }
}

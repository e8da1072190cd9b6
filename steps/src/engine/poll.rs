//! Polling with a deadline: how every step waits for a condition (never a fixed sleep).

use std::time::{Duration, Instant};

use super::StepError;

/// Delays between checks grow from `initial` to `max`; no wait goes past the deadline.
#[derive(Debug, Clone)]
pub struct Poller {
    deadline: Instant,
    delay: Duration,
    max: Duration,
    /// The last check's error, when it failed in a way waiting may fix.
    failing: Option<StepError>,
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
            failing: None,
        }
    }

    /// One check's outcome. An error that waiting may fix (the SDK has spent its own attempts
    /// on it: a dropped connection, throttling) is "not yet" while time is left, so one unlucky
    /// call does not end a poll that still has time; a later success forgets it. Any other
    /// error, or a transient one after the deadline, ends the poll.
    pub fn tolerate<T>(&mut self, outcome: Result<T, StepError>) -> Result<Option<T>, StepError> {
        match outcome {
            Ok(v) => {
                self.failing = None;
                Ok(Some(v))
            }
            Err(e) if e.is_transient() && !self.expired() => {
                self.failing = Some(e);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The poll's answer at its deadline: `seen`, unless the last check failed, in which case
    /// what was not seen is unknown and the error says why.
    pub fn finish<T>(&mut self, seen: T) -> Result<T, StepError> {
        match self.failing.take() {
            Some(e) => Err(e.context("the last check before the deadline failed")),
            None => Ok(seen),
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

    #[test]
    fn a_transient_error_is_not_yet_while_time_is_left_and_the_answer_if_it_was_last() {
        let mut p = Poller::new(Duration::from_secs(60));
        let dropped = || Err::<u8, _>(StepError::transient("connection dropped"));
        assert_eq!(p.tolerate(dropped()).unwrap(), None);
        assert_eq!(p.tolerate(Ok(1)).unwrap(), Some(1));
        assert_eq!(p.finish("seen").unwrap(), "seen", "a success forgets it");
        assert_eq!(p.tolerate(dropped()).unwrap(), None);
        let e = p.finish("seen").unwrap_err();
        assert!(e.message.contains("connection dropped"), "{}", e.message);
        let denied = StepError::permanent("AccessDenied");
        assert!(
            p.tolerate::<u8>(Err(denied)).is_err(),
            "only transient errors wait"
        );
        let mut expired = Poller::new(Duration::ZERO);
        assert!(expired.tolerate(dropped()).is_err(), "no time left to wait");
    }
}

//! The one retry policy: exponential backoff with full jitter, bounded by a maximum elapsed time.
//!
//! The exponential sequence comes from `backon` (maintained; the older `backoff` crate is
//! unmaintained, RUSTSEC-2025-0012). `backon`'s own jitter adds up to one more delay on top
//! (`d + rand(0, d)`); "full jitter" draws the whole delay from `rand(0, d)`, which spreads
//! retrying clients best, so it is applied here.

use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use deploy_config::Retry;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub initial_delay: Duration,
    pub max_delay: Duration,
    pub max_elapsed: Duration,
}

impl From<&Retry> for RetryPolicy {
    fn from(r: &Retry) -> Self {
        RetryPolicy {
            initial_delay: r.initial_delay,
            max_delay: r.max_delay,
            max_elapsed: r.max_elapsed,
        }
    }
}

impl RetryPolicy {
    /// Runs `op` until it succeeds, fails permanently, or the backoff runs out.
    pub async fn retry<T, F, Fut>(&self, op: F) -> Result<T, super::StepError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, super::StepError>>,
    {
        use backon::Retryable;
        op.retry(self.backoff())
            .sleep(tokio::time::sleep)
            .when(|e: &super::StepError| e.is_transient())
            .await
    }

    /// A fresh sequence of delays; it ends once the next delay would pass `max_elapsed`
    /// counted from now.
    pub fn backoff(&self) -> FullJitter {
        FullJitter {
            inner: ExponentialBuilder::default()
                .with_min_delay(self.initial_delay)
                .with_max_delay(self.max_delay)
                .with_factor(2.0)
                .without_max_times()
                .build(),
            rng: fastrand::Rng::new(),
            start: Instant::now(),
            max_elapsed: self.max_elapsed,
        }
    }
}

/// Usable directly as a `backon` backoff (`.retry(policy.backoff())`).
#[derive(Debug)]
pub struct FullJitter {
    inner: backon::ExponentialBackoff,
    rng: fastrand::Rng,
    start: Instant,
    max_elapsed: Duration,
}

impl Iterator for FullJitter {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let ceiling = self.inner.next()?;
        let delay = ceiling.mul_f64(self.rng.f64());
        (self.start.elapsed() + delay <= self.max_elapsed).then_some(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_within_their_ceiling_and_stop_at_the_deadline() {
        let p = RetryPolicy {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(400),
            max_elapsed: Duration::from_secs(3600),
        };
        let delays: Vec<Duration> = p.backoff().take(6).collect();
        let ceilings = [100, 200, 400, 400, 400, 400];
        for (d, c) in delays.iter().zip(ceilings) {
            assert!(*d <= Duration::from_millis(c), "{d:?} > {c}ms");
        }
        let none = RetryPolicy {
            max_elapsed: Duration::ZERO,
            ..p
        };
        // Full jitter can draw 0, which still fits a zero budget; any positive draw does not.
        assert!(none.backoff().take(20).all(|d| d.is_zero()));
    }
}

//! The window a replay may ask for: in the past, not empty, within the archive's retention.

use jiff::Timestamp;

use super::{Refused, Target};
use crate::aws::{AwsClients, sdk_error};
use crate::engine::StepError;

/// Checks the window against the archive: it must end in the past, start before it ends, and
/// lie within the archive's retention.
pub async fn check_window(
    aws: &AwsClients,
    target: &Target,
    start: Timestamp,
    end: Timestamp,
    now: Timestamp,
) -> Result<Result<(), Refused>, StepError> {
    let archive = aws
        .events
        .describe_archive()
        .archive_name(&target.archive_name)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("DescribeArchive {}", target.archive_name), e))?;
    let retention = archive.retention_days().unwrap_or(0);
    Ok(window_ok(start, end, now, retention))
}

/// The rules of `check_window`, on plain values. `retention_days` 0 = kept indefinitely.
pub fn window_ok(
    start: Timestamp,
    end: Timestamp,
    now: Timestamp,
    retention_days: i32,
) -> Result<(), Refused> {
    if end > now {
        return Err(Refused(format!(
            "--until {end} is in the future; the archive holds events up to now ({now})"
        )));
    }
    if start >= end {
        return Err(Refused(format!(
            "the window is empty: it starts at {start} and ends at {end}"
        )));
    }
    if retention_days > 0 {
        let oldest = now - jiff::SignedDuration::from_hours(24 * i64::from(retention_days));
        if start < oldest {
            return Err(Refused(format!(
                "the window starts at {start}, but the archive keeps events for {retention_days} \
                 day(s), so nothing older than {oldest} is left; use a --since of at most \
                 {retention_days}d"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_window_must_be_past_non_empty_and_within_retention() {
        let now = ts("2026-11-25T12:00:00Z");
        assert!(window_ok(ts("2026-11-25T11:50:00Z"), now, now, 7).is_ok());
        let e = window_ok(ts("2026-11-17T12:00:00Z"), now, now, 7).unwrap_err();
        assert!(e.0.contains("keeps events for 7 day(s)"), "{e}");
        assert!(e.0.contains("at most 7d"), "{e}");
        // Indefinite retention: any start.
        assert!(window_ok(ts("2020-01-01T00:00:00Z"), now, now, 0).is_ok());
        let e = window_ok(
            ts("2026-11-25T11:00:00Z"),
            ts("2026-11-25T13:00:00Z"),
            now,
            7,
        );
        assert!(e.unwrap_err().0.contains("in the future"));
        let e = window_ok(now, now, now, 7).unwrap_err();
        assert!(e.0.contains("empty"));
    }
}

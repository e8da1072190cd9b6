//! clap value parsers for the durations and times of the command line: `--wait-lock`,
//! `replay --since`, `--until` and `--timeout`. An error names the value and says what is
//! allowed; clap prefixes it with the flag and exits 2.

use std::time::Duration;

use jiff::{SignedDuration, Span, SpanRelativeTo, Timestamp};

/// The longest a run waits for another's lock (and for a replay).
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// `30s`, `5m`, `1h30m`, `250ms` (jiff's friendly format, or ISO 8601 `PT30S`), or plain
/// seconds; from 0 to 24 hours.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let allowed = "use e.g. 30s, 5m, 1h30m or 250ms, at most 24h";
    let parsed: Result<SignedDuration, _> = if s.chars().all(|c| c.is_ascii_digit()) {
        s.parse::<i64>()
            .map(SignedDuration::from_secs)
            .map_err(|_| ())
    } else {
        s.parse::<SignedDuration>().map_err(|_| ())
    };
    let d = parsed.map_err(|()| format!("`{s}` is not a duration: {allowed}"))?;
    let d = Duration::try_from(d).map_err(|_| format!("`{s}` is negative: {allowed}"))?;
    if d > MAX_WAIT {
        return Err(format!("`{s}` is longer than 24h: {allowed}"));
    }
    Ok(d)
}

/// `10m`, `2h`, `3d` (a day is 24 hours), `1w`: how far back a window starts; positive.
pub fn lookback(s: &str) -> Result<SignedDuration, String> {
    let allowed = "use e.g. 10m, 2h or 3d";
    let span: Span = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a duration: {allowed}"))?;
    let d = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|_| format!("`{s}` is not a duration: {allowed}"))?;
    if d <= SignedDuration::ZERO {
        return Err(format!("`{s}` is not a positive duration: {allowed}"));
    }
    Ok(d)
}

/// An RFC 3339 time, e.g. `2026-11-25T12:00:00Z`.
pub fn time(s: &str) -> Result<Timestamp, String> {
    s.parse::<Timestamp>()
        .map_err(|_| format!("`{s}` is not a time; use RFC 3339, e.g. 2026-11-25T12:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("-5s").unwrap_err().contains("negative"));
        let huge = parse_duration("99999999999999999999h").unwrap_err();
        assert!(huge.contains("99999999999999999999h"), "{huge}");
        assert!(parse_duration("25h").unwrap_err().contains("at most 24h"));
    }

    #[test]
    fn lookbacks_take_days() {
        assert_eq!(lookback("10m").unwrap().as_secs(), 600);
        assert_eq!(lookback("3d").unwrap().as_secs(), 3 * 86_400);
        assert_eq!(lookback("1w").unwrap().as_secs(), 7 * 86_400);
        assert!(lookback("0s").unwrap_err().contains("positive"));
        assert!(lookback("-2h").unwrap_err().contains("positive"));
        assert!(lookback("soon").unwrap_err().contains("not a duration"));
    }

    #[test]
    fn times_are_rfc_3339() {
        assert_eq!(
            time("2026-11-25T12:00:00Z").unwrap().as_second(),
            1_795_608_000
        );
        let err = time("yesterday").unwrap_err();
        assert!(err.contains("`yesterday` is not a time"), "{err}");
        assert!(err.contains("RFC 3339"), "{err}");
    }
}

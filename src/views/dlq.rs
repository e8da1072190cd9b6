//! `deploy dlq show|export|redrive` as text (the `--json` document is the library's report).

use std::collections::BTreeMap;
use std::fmt::Write;

use deploy_steps::dlq::{Depth, Exported, Handled, Outcome, Peek, Redriven};

/// How many would-send lines a dry run lists.
const LISTED: usize = 10;

/// `90` → `1m30s`, `7200` → `2h0m`.
pub fn age(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        s => format!("{}d{}h", s / 86_400, s % 86_400 / 3600),
    }
}

fn depth(d: &Depth) -> String {
    format!(
        "{} messages ({} visible, {} in flight)",
        d.total(),
        d.visible,
        d.in_flight
    )
}

pub fn show_text(p: &Peek) -> String {
    let mut t = format!("Dead-letter queue {}: {}\n", p.queue, depth(&p.depth));
    if p.read == 0 {
        t.push_str("Nothing to read.");
        return t;
    }
    if p.sample {
        let _ = writeln!(
            t,
            "A sample: {} messages read of {}; the counts are of the sample.",
            p.read,
            p.depth.total()
        );
    } else {
        let _ = writeln!(t, "All {} messages read.", p.read);
    }
    if let Some(a) = p.oldest_age_seconds {
        let _ = writeln!(t, "Oldest message read: {} old.", age(a));
    }
    for (title, counts) in [
        ("source", &p.by_source),
        ("detail type", &p.by_detail_type),
        ("rule", &p.by_rule),
        ("error code", &p.by_error_code),
        ("function that failed", &p.by_function),
    ] {
        t.push_str(&counted(title, counts));
    }
    let _ = writeln!(t, "\n{} of the messages:", p.messages.len());
    for m in &p.messages {
        let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let _ = writeln!(
            t,
            "  {}  {} / {}  {}: {}{}{}",
            or_none(&m.event_id),
            or_none(&m.source),
            or_none(&m.detail_type),
            or_none(&m.error_code),
            or_none(&m.error_message),
            m.function_arn
                .as_ref()
                .map(|f| format!(" (function {f})"))
                .unwrap_or_default(),
            if m.attempt > 0 {
                format!(" (re-published {} times)", m.attempt)
            } else {
                String::new()
            }
        );
    }
    t.trim_end().to_string()
}

fn counted(title: &str, counts: &BTreeMap<String, usize>) -> String {
    let mut t = format!("\nBy {title}:\n");
    let mut rows: Vec<_> = counts.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (k, n) in rows {
        let _ = writeln!(t, "  {n:>6}  {k}");
    }
    t
}

pub fn export_text(e: &Exported) -> String {
    let mut t = format!(
        "Exported {} events to {} ({} deleted from the queue",
        e.written,
        e.file.display(),
        e.deleted
    );
    if e.not_json > 0 {
        let _ = write!(
            t,
            "; {} bodies were not JSON: written as strings",
            e.not_json
        );
    }
    let _ = write!(t, ").\nThe queue now holds {}.", depth(&e.left));
    for (id, why) in &e.delete_failed {
        let _ = write!(t, "\n  not deleted: message {id}: {why}");
    }
    if let Some(why) = &e.stopped {
        let _ = write!(t, "\nStopped: {why}");
    }
    t
}

pub fn redrive_text(r: &Redriven) -> String {
    let mut t = if r.dry_run {
        format!(
            "Dry run on {}: would send {}, nothing sent or deleted",
            r.queue, r.would_send
        )
    } else {
        format!("Redrive of {}: {} sent", r.queue, r.sent)
    };
    let _ = write!(
        t,
        "; {} refused by the loop guard (limit {}: {}); {} failed (kept).\n\
         The queue now holds {}.",
        r.refused,
        r.max_republish,
        r.max_republish_from,
        r.failed,
        depth(&r.left)
    );
    let would = r
        .messages
        .iter()
        .filter(|h| h.outcome == Outcome::WouldSend);
    let kept = r
        .messages
        .iter()
        .filter(|h| matches!(h.outcome, Outcome::Refused | Outcome::Failed));
    for h in would.take(LISTED).chain(kept) {
        t.push('\n');
        t.push_str(&line(h));
    }
    if r.would_send > LISTED {
        let _ = write!(t, "\n  ... and {} more", r.would_send - LISTED);
    }
    if let Some(why) = &r.stopped {
        let _ = write!(t, "\nStopped: {why}");
    }
    t
}

fn line(h: &Handled) -> String {
    let what = match h.outcome {
        Outcome::Sent => "sent",
        Outcome::WouldSend => "would send",
        Outcome::Refused => "refused",
        Outcome::Failed => "failed",
    };
    let event = h.event_id.as_deref().unwrap_or("-");
    let mut l = format!("  {what:<10} event {event} (message {})", h.message_id);
    if let Some(bus) = h.bus.as_deref().filter(|_| h.outcome == Outcome::WouldSend) {
        let _ = write!(l, " to {bus}, attempt {}", h.attempt + 1);
    }
    if let Some(why) = &h.reason {
        let _ = write!(l, ": {why}");
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_people_write_them() {
        assert_eq!(age(5), "5s");
        assert_eq!(age(90), "1m30s");
        assert_eq!(age(7260), "2h1m");
        assert_eq!(age(90_000), "1d1h");
    }
}

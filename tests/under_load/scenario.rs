//! One change under load: consumers reading, a publisher publishing, `deploy all` applying the
//! change meanwhile, then every accepted event looked for at every consumer its routes deliver
//! it to, polled until all arrived or a deadline passed.
//!
//! Which consumers an event must reach depends on when it was published: before `deploy all`
//! started, the routes as they were; after it ended, the routes as configured now; while it
//! ran, the consumers both agree on (a rule is either still the old one or already the new
//! one when the event meets it, so those are owed whatever the instant of the switch). An
//! arrival at a consumer that neither configuration routes the event to is counted as
//! unexpected.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::stack::{Hub, Stack};
use super::traffic::{self, Consumers, Kind, Publisher, Seen, Sent};

/// The consumer that is the event-logger function (seen in its log group).
pub const LOGGER: &str = "logger";
/// Events a second the publisher sends.
pub const RATE: u32 = 8;
/// Events published before the change starts, and after it ended.
const LEAD: usize = 12;
const TAIL: usize = 12;
/// How long deliveries may take to arrive once publishing stopped.
const DELIVERY: Duration = Duration::from_secs(60);

/// A kind of event and the consumers its routes deliver it to, before and after the change.
pub struct Route {
    pub kind: Kind,
    pub before: &'static [&'static str],
    pub after: &'static [&'static str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Before,
    During,
    After,
}

pub struct Scenario {
    /// The change, as the report names it.
    pub name: &'static str,
    pub routes: Vec<Route>,
    /// (consumer, queue key) for every queue consumer: a consumer may read several queues.
    pub queues: Vec<(&'static str, String)>,
    pub deploy_args: Vec<&'static str>,
}

/// What came of it.
pub struct Outcome {
    pub name: &'static str,
    pub code: Option<i32>,
    pub output: String,
    pub took: Duration,
    pub live: (Option<i32>, String),
    pub published: usize,
    pub refused: usize,
    pub rate: f64,
    /// `marker (kind, phase) at consumer`, for every delivery owed and not seen.
    pub lost: Vec<String>,
    pub duplicated: usize,
    pub unexpected: Vec<String>,
    /// Our events the dead-letter processor logged.
    pub dead_lettered: usize,
    pub by_phase: BTreeMap<Phase, usize>,
}

impl Scenario {
    /// Runs it: `hub` is written as the configuration, and `change` may edit more of the
    /// project (code), just before `deploy all`; once that succeeds, `hub` is what is deployed.
    pub async fn run(self, stack: &Stack, hub: Hub, change: impl FnOnce()) -> Outcome {
        let sdk = stack.ctx.sdk().await;
        let slug: String = (self.name.chars())
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let tag = format!("{}-{slug}", stack.env());
        let since_ms = now_ms() - 1_000;
        let queues: Vec<(String, String)> = (self.queues.iter())
            .map(|(c, q)| (c.to_string(), stack.queue_name(q)))
            .collect();
        let consumers = Consumers::start(aws_sdk_sqs::Client::new(&sdk), &tag, &queues);
        let kinds = self.routes.iter().map(|r| r.kind).collect();
        let bus = format!("{}-application-events", stack.env());
        let events = aws_sdk_eventbridge::Client::new(&sdk);
        let publisher = Publisher::start(events, bus, tag, kinds, RATE);
        let start = Instant::now();
        publisher
            .wait_accepted(start, LEAD, Duration::from_secs(30))
            .await;

        stack.write_config(&hub);
        change();
        let t0 = Instant::now();
        let (code, output, took) = tokio::task::block_in_place(|| {
            let args: Vec<&str> = self.deploy_args.clone();
            stack.deploy_all(&args)
        });
        let t1 = Instant::now();
        if code == Some(0) {
            stack.deployed(hub);
        }
        publisher
            .wait_accepted(t1, TAIL, Duration::from_secs(30))
            .await;
        let (sent, refused, rate) = publisher.stop().await;
        let live = tokio::task::block_in_place(|| stack.status_live());

        let owed = self.owed(&sent, t0, t1);
        let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
        let logger = format!("{}-event-logger", stack.env());
        let by_id: BTreeMap<String, String> = (sent.iter())
            .map(|s| (s.id.clone(), s.marker.clone()))
            .collect();
        let ids: BTreeSet<String> = by_id.keys().cloned().collect();
        let reads_logger = self
            .routes
            .iter()
            .any(|r| r.before.contains(&LOGGER) || r.after.contains(&LOGGER));
        let look = || async {
            let mut seen = consumers.seen();
            if reads_logger {
                let lines = traffic::logged(&logs, &logger, "EVENT_RECEIVED", &ids, since_ms);
                let by_marker = (lines.await.into_iter())
                    .map(|(id, n)| (by_id[&id].clone(), n))
                    .collect();
                seen.insert(LOGGER.to_string(), by_marker);
            }
            seen
        };
        let deadline = Instant::now() + DELIVERY;
        let mut seen = look().await;
        while !missing(&owed, &seen).is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(500)).await;
            seen = look().await;
        }
        consumers.stop().await;
        let processor = format!("{}-dead-letter-processor", stack.env());
        let dead = traffic::logged(&logs, &processor, "DLQ_RECORD", &ids, since_ms).await;

        let mut by_phase = BTreeMap::new();
        for (_, phase, _) in owed.values() {
            *by_phase.entry(*phase).or_default() += 1;
        }
        let outcome = Outcome {
            name: self.name,
            code,
            output,
            took,
            live,
            published: sent.len(),
            refused,
            rate,
            lost: missing(&owed, &seen),
            duplicated: seen
                .values()
                .flat_map(|m| m.values())
                .map(|n| n - 1)
                .sum::<u32>() as usize,
            unexpected: unexpected(&owed, &seen),
            dead_lettered: dead.len(),
            by_phase,
        };
        outcome.report();
        outcome
    }

    /// For each event, by marker: its kind, its phase, and the consumers it is owed to.
    fn owed(&self, sent: &[Sent], t0: Instant, t1: Instant) -> Owed {
        let mut out = Owed::new();
        for s in sent {
            let phase = if s.accepted <= t0 {
                Phase::Before
            } else if s.sent >= t1 {
                Phase::After
            } else {
                Phase::During
            };
            let route = self.routes.iter().find(|r| r.kind == s.kind).unwrap();
            let (before, after) = (set(route.before), set(route.after));
            let (owed, allowed) = match phase {
                Phase::Before => (before.clone(), before),
                Phase::After => (after.clone(), after),
                Phase::During => (
                    before.intersection(&after).cloned().collect(),
                    before.union(&after).cloned().collect(),
                ),
            };
            out.insert(s.marker.clone(), (s.kind, phase, (owed, allowed)));
        }
        out
    }
}

type Owed = BTreeMap<String, (Kind, Phase, (BTreeSet<String>, BTreeSet<String>))>;

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn times(seen: &Seen, consumer: &str, marker: &str) -> u32 {
    seen.get(consumer)
        .and_then(|m| m.get(marker))
        .copied()
        .unwrap_or(0)
}

/// Deliveries owed and not seen.
fn missing(owed: &Owed, seen: &Seen) -> Vec<String> {
    let mut out = Vec::new();
    for (marker, (kind, phase, (consumers, _))) in owed {
        for c in consumers {
            if times(seen, c, marker) == 0 {
                out.push(format!("{marker} ({}, {phase:?}) at {c}", kind.kind));
            }
        }
    }
    out
}

/// Arrivals at a consumer no route of either configuration delivers the event to.
fn unexpected(owed: &Owed, seen: &Seen) -> Vec<String> {
    let mut out = Vec::new();
    for (consumer, markers) in seen {
        for marker in markers.keys() {
            if let Some((kind, phase, (_, allowed))) = owed.get(marker)
                && !allowed.contains(consumer)
            {
                out.push(format!("{marker} ({}, {phase:?}) at {consumer}", kind.kind));
            }
        }
    }
    out
}

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    since.as_millis() as i64
}

impl Outcome {
    /// One line for people, and (with `UNDER_LOAD_REPORT=<file>`) one table row appended to that
    /// file: change, published, lost, duplicated, dead-lettered, deploy time.
    pub fn report(&self) {
        let name = self.name;
        let phases: Vec<String> = (self.by_phase.iter())
            .map(|(p, n)| format!("{p:?} {n}"))
            .collect();
        eprintln!(
            "under load: {name}: published {} ({:.1}/s, {} refused; {}), deploy {:.1}s exit {:?}, \
             lost {}, duplicated {}, unexpected {}, dead-lettered {}",
            self.published,
            self.rate,
            self.refused,
            phases.join(", "),
            self.took.as_secs_f64(),
            self.code,
            self.lost.len(),
            self.duplicated,
            self.unexpected.len(),
            self.dead_lettered
        );
        if let Some(path) = std::env::var_os("UNDER_LOAD_REPORT") {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap();
            writeln!(
                f,
                "| {name} | {} | {:.1} | {} | {} | {} | {:.1} |",
                self.published,
                self.rate,
                self.lost.len(),
                self.duplicated,
                self.dead_lettered,
                self.took.as_secs_f64()
            )
            .unwrap();
        }
    }

    /// The checks every change must pass: the exit code, healthy afterwards, nothing lost,
    /// nothing where no route sends it. On a loss the step logs of the change are shown.
    pub fn assert_sound(&self, stack: &Stack, code: i32) {
        assert_eq!(self.code, Some(code), "deploy all:\n{}", self.output);
        let (live, text) = &self.live;
        assert_eq!(*live, Some(0), "status --live:\n{text}");
        assert!(
            self.rate >= 5.0,
            "the publisher reached {:.1} events a second",
            self.rate
        );
        if !self.lost.is_empty() {
            let logs: Vec<String> = ["infrastructure", "lambdas", "contract"]
                .iter()
                .map(|s| format!("--- deploy logs {s}\n{}", stack.step_log(s)))
                .collect();
            panic!(
                "{} of {} events lost: {:#?}\n{}",
                self.lost.len(),
                self.published,
                &self.lost[..self.lost.len().min(30)],
                logs.join("\n")
            );
        }
        assert!(
            self.unexpected.is_empty(),
            "delivered where no route sends them: {:#?}",
            self.unexpected
        );
    }
}

//! The load: a publisher (`PutEvents` from a tokio task at a steady rate, every event carrying a
//! unique marker in its detail, every accepted event recorded with its id and when it was
//! sent), consumers that read queues as a real consumer would (receive, count our markers,
//! delete), and the reading of what the event-logger and the dead-letter processor logged.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde_json::{Value, json};
use tokio::task::JoinSet;

/// A kind of event: its detail type and `detail.kind`, which the routes match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Kind {
    pub detail_type: &'static str,
    pub kind: &'static str,
}

/// An event `PutEvents` accepted.
#[derive(Debug, Clone)]
pub struct Sent {
    pub marker: String,
    pub id: String,
    pub kind: Kind,
    /// Just before the call, and when its answer came.
    pub sent: Instant,
    pub accepted: Instant,
}

/// Publishes `kinds` in turn, `per_second` events a second (one entry per `PutEvents`, each
/// call its own task, so a slow answer does not slow the rate), until stopped.
pub struct Publisher {
    accepted: Arc<Mutex<Vec<Sent>>>,
    refused: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
    started: Instant,
}

impl Publisher {
    pub fn start(
        events: aws_sdk_eventbridge::Client,
        bus: String,
        tag: String,
        kinds: Vec<Kind>,
        per_second: u32,
    ) -> Publisher {
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (acc, bad, halt) = (accepted.clone(), refused.clone(), stop.clone());
        let task = tokio::spawn(async move {
            let mut rate = tokio::time::interval(Duration::from_secs(1) / per_second);
            let mut calls = JoinSet::new();
            let mut n = 0usize;
            while !halt.load(Ordering::SeqCst) {
                rate.tick().await;
                let kind = kinds[n % kinds.len()];
                let marker = format!("{tag}-{n:05}");
                n += 1;
                let call = publish(events.clone(), bus.clone(), kind, marker);
                let (acc, bad) = (acc.clone(), bad.clone());
                calls.spawn(async move {
                    match call.await {
                        Some(sent) => acc.lock().unwrap().push(sent),
                        None => {
                            bad.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                });
                while calls.try_join_next().is_some() {}
            }
            while calls.join_next().await.is_some() {}
        });
        Publisher {
            accepted,
            refused,
            stop,
            task,
            started: Instant::now(),
        }
    }

    /// How many events were accepted that were sent after `since`.
    pub fn accepted_since(&self, since: Instant) -> usize {
        let accepted = self.accepted.lock().unwrap();
        accepted.iter().filter(|s| s.sent >= since).count()
    }

    /// Waits (polling, at most `timeout`) until `n` events sent after `since` were accepted.
    pub async fn wait_accepted(&self, since: Instant, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.accepted_since(since) < n {
            assert!(
                Instant::now() < deadline,
                "the publisher had {} of {n} events accepted within {timeout:?} ({} refused)",
                self.accepted_since(since),
                self.refused.load(Ordering::SeqCst)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops publishing; every accepted event, how many were refused, and the rate achieved.
    pub async fn stop(self) -> (Vec<Sent>, usize, f64) {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.unwrap();
        let seconds = self.started.elapsed().as_secs_f64();
        let sent = std::mem::take(&mut *self.accepted.lock().unwrap());
        let rate = sent.len() as f64 / seconds;
        (sent, self.refused.load(Ordering::SeqCst), rate)
    }
}

/// One `PutEvents` of one event; `None` when it was not accepted.
async fn publish(
    events: aws_sdk_eventbridge::Client,
    bus: String,
    kind: Kind,
    marker: String,
) -> Option<Sent> {
    let detail = json!({"kind": kind.kind, "marker": marker});
    let entry = PutEventsRequestEntry::builder()
        .event_bus_name(bus)
        .source(super::stack::SOURCE)
        .detail_type(kind.detail_type)
        .detail(detail.to_string())
        .build();
    let sent = Instant::now();
    let out = events.put_events().entries(entry).send().await.ok()?;
    let accepted = Instant::now();
    if out.failed_entry_count() > 0 {
        return None;
    }
    let id = out.entries().first()?.event_id()?.to_string();
    Some(Sent {
        marker,
        id,
        kind,
        sent,
        accepted,
    })
}

/// How often each marker arrived, by consumer.
pub type Seen = BTreeMap<String, BTreeMap<String, u32>>;

/// Queue consumers: one task per queue, receiving and deleting the messages that carry one of
/// our markers (others, such as the examples `test-events` publishes, are made visible again at
/// once for their reader), until stopped. A queue that does not exist yet (a new one of the
/// change) or any more (one the contraction removed) is looked for again.
pub struct Consumers {
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    tasks: JoinSet<()>,
}

impl Consumers {
    /// `queues`: (consumer, queue name) pairs; a consumer may read several queues.
    pub fn start(sqs: aws_sdk_sqs::Client, tag: &str, queues: &[(String, String)]) -> Consumers {
        let seen = Arc::new(Mutex::new(Seen::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = JoinSet::new();
        for (consumer, queue) in queues {
            seen.lock().unwrap().entry(consumer.clone()).or_default();
            let reader = Reader {
                sqs: sqs.clone(),
                consumer: consumer.clone(),
                queue: queue.clone(),
                tag: format!("{tag}-"),
                seen: seen.clone(),
                stop: stop.clone(),
            };
            tasks.spawn(reader.run());
        }
        Consumers { seen, stop, tasks }
    }

    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }

    pub async fn stop(mut self) -> Seen {
        self.stop.store(true, Ordering::SeqCst);
        while self.tasks.join_next().await.is_some() {}
        self.seen()
    }
}

struct Reader {
    sqs: aws_sdk_sqs::Client,
    consumer: String,
    queue: String,
    tag: String,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
}

impl Reader {
    async fn run(self) {
        let mut url: Option<String> = None;
        while !self.stop.load(Ordering::SeqCst) {
            let Some(u) = url.clone() else {
                url = self.url().await;
                if url.is_none() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                continue;
            };
            let got = self
                .sqs
                .receive_message()
                .queue_url(&u)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .visibility_timeout(20)
                .send()
                .await;
            let Ok(got) = got else {
                // Gone (a contraction removed it) or a hiccup: look it up again.
                url = None;
                continue;
            };
            for m in got.messages() {
                let body: Value = serde_json::from_str(m.body().unwrap_or("")).unwrap_or_default();
                let handle = m.receipt_handle().unwrap_or_default();
                match body["detail"]["marker"].as_str() {
                    Some(marker) if marker.starts_with(&self.tag) => {
                        self.count(marker);
                        let delete = self.sqs.delete_message().queue_url(&u);
                        let _ = delete.receipt_handle(handle).send().await;
                    }
                    _ => {
                        let release = self.sqs.change_message_visibility().queue_url(&u);
                        let release = release.receipt_handle(handle).visibility_timeout(0);
                        let _ = release.send().await;
                    }
                }
            }
        }
    }

    async fn url(&self) -> Option<String> {
        let out = self.sqs.get_queue_url().queue_name(&self.queue);
        out.send().await.ok()?.queue_url().map(str::to_string)
    }

    fn count(&self, marker: &str) {
        let mut seen = self.seen.lock().unwrap();
        let by_marker = seen.entry(self.consumer.clone()).or_default();
        *by_marker.entry(marker.to_string()).or_default() += 1;
    }
}

/// How many lines of `log_type` name each of `ids` (by `eventId`) in a function's log group,
/// since `since_ms`, every page read.
pub async fn logged(
    logs: &aws_sdk_cloudwatchlogs::Client,
    function: &str,
    log_type: &str,
    ids: &BTreeSet<String>,
    since_ms: i64,
) -> BTreeMap<String, u32> {
    let mut counts = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = logs
            .filter_log_events()
            .log_group_name(format!("/aws/lambda/{function}"))
            .filter_pattern(format!("\"{log_type}\""))
            .start_time(since_ms)
            .set_next_token(token.clone())
            .send()
            .await;
        let Ok(page) = page else { return counts };
        for m in page.events().iter().filter_map(|e| e.message()) {
            let Some(line) = m
                .find('{')
                .and_then(|i| serde_json::from_str::<Value>(&m[i..]).ok())
            else {
                continue;
            };
            if line["logType"] != log_type {
                continue;
            }
            if let Some(id) = line["eventId"].as_str().filter(|id| ids.contains(*id)) {
                *counts.entry(id.to_string()).or_default() += 1;
            }
        }
        match page.next_token {
            Some(t) if !t.is_empty() && Some(&t) != token.as_ref() => token = Some(t),
            _ => return counts,
        }
    }
}

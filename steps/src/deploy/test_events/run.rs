//! One run of the step, phase by phase: probes set up, examples published, routes proven,
//! live health, the results written.

use super::*;

/// What flows between the phases of a run, after the examples were found valid.
pub(super) struct Run<'a> {
    pub(super) aws: &'a AwsClients,
    pub(super) config: &'a Config,
    pub(super) infra: Infrastructure,
    pub(super) started_at: jiff::Timestamp,
    /// Arrivals older than this (ms since the epoch) are not this run's.
    pub(super) since_ms: i64,
    pub(super) checks: Vec<Check>,
}

/// What publishing left: the probes to prove routes with, and what was published.
pub(super) struct Exercised {
    /// The routing probe on the deployed bus (already removed).
    pub(super) probe: probe::Probe,
    /// The probes on the other buses routes deliver to, by bus ARN (still there).
    pub(super) bus_probes: BTreeMap<String, probe::Probe>,
    /// What publishing came to.
    pub(super) outcome: Result<Vec<Published>, StepError>,
    /// What was published (nothing if publishing failed).
    pub(super) published: Vec<Published>,
}

impl Run<'_> {
    /// Sets up the probes, publishes the examples and the probe event, and waits for the
    /// probe; the routing probe is removed whatever happened.
    pub(super) async fn publish_and_probe(
        &mut self,
        ctx: &mut StepContext<'_>,
        outgoing: &[Outgoing],
    ) -> Exercised {
        let (aws, bus) = (self.aws, &self.infra.event_bus_name);
        let mut probe = probe::Probe::new(&self.config.project.environment, bus);
        let bus_probes = match routes::bus_probes(ctx, aws, self.config, outgoing).await {
            Ok(p) => p,
            Err(e) => {
                self.checks.push(Check::timed(
                    "bus probes",
                    Instant::now(),
                    false,
                    e.message.clone(),
                ));
                Default::default()
            }
        };
        let outcome = deliver::exercise(
            ctx,
            aws,
            &self.infra,
            &mut probe,
            outgoing.to_vec(),
            &mut self.checks,
        )
        .await;
        let published = match &outcome {
            Ok(p) => p.clone(),
            Err(_) => Vec::new(),
        };
        self.remove_probe(ctx, &probe).await;
        Exercised {
            probe,
            bus_probes,
            outcome,
            published,
        }
    }

    /// Removes the routing probe (within [`CLEANUP_TIMEOUT`]): the `probe removed` check.
    async fn remove_probe(&mut self, ctx: &mut StepContext<'_>, probe: &probe::Probe) {
        let t = Instant::now();
        let bus = &self.infra.event_bus_name;
        let cleanup = tokio::time::timeout(
            CLEANUP_TIMEOUT,
            probe::remove(ctx, self.aws, bus, &probe.name),
        )
        .await;
        let check = match cleanup {
            Ok(Ok(())) => Check::timed(
                "probe removed",
                t,
                true,
                format!("rule, target and queue {} deleted", probe.name),
            ),
            Ok(Err(e)) => Check::timed("probe removed", t, false, e.message),
            Err(_) => Check::timed("probe removed", t, false, "timed out deleting the probe"),
        };
        self.checks.push(check);
        report(ctx, self.checks.last());
    }

    /// Proves every route's targets; the probes on other buses are removed whatever the
    /// outcome.
    pub(super) async fn prove_routes(
        &mut self,
        ctx: &mut StepContext<'_>,
        outgoing: &[Outgoing],
        exercised: &Exercised,
    ) -> Result<Vec<EventRecord>, StepError> {
        let mut sent = outgoing.to_vec();
        sent.push(exercised.probe.event());
        let proven_before = match &ctx.env.state {
            Some(objects) => crate::rollback::LastGood::load(objects.as_ref())
                .await
                .map(|g| g.proven_routes)
                .unwrap_or_default(),
            None => Default::default(),
        };
        let sent_to = routes::Sent {
            outgoing: &sent,
            published: &exercised.published,
            probes: &exercised.bus_probes,
            since_ms: self.since_ms,
            proven_before: &proven_before,
        };
        let records = routes::prove(ctx, self.aws, self.config, &sent_to, &mut self.checks).await;
        for p in exercised.bus_probes.values() {
            if let Err(e) = probe::remove(ctx, self.aws, &p.bus, &p.name).await {
                ctx.warn(&format!("could not remove the probe on {}: {e}", p.bus))
                    .await;
            }
        }
        records
    }

    /// Publishing failed with `e`: the `publish` check fails, the results are written, and the
    /// step fails with `e`.
    pub(super) async fn publish_failed(
        mut self,
        ctx: &mut StepContext<'_>,
        e: StepError,
    ) -> Result<(), StepError> {
        self.checks.push(Check::timed(
            "publish",
            Instant::now(),
            false,
            e.message.clone(),
        ));
        let bus = &self.infra.event_bus_name;
        finish(ctx, bus, self.started_at, self.checks, Vec::new()).await?;
        Err(e)
    }

    /// Live health of every owned resource, as `status --live` checks it.
    pub(super) async fn health(&mut self, ctx: &mut StepContext<'_>) {
        for c in health::checks(ctx.env, self.aws, ctx.state()).await {
            self.checks.push(c);
            report(ctx, self.checks.last());
        }
    }

    /// Writes the results; the step fails if any check failed.
    pub(super) async fn conclude(
        self,
        ctx: &mut StepContext<'_>,
        records: Vec<EventRecord>,
    ) -> Result<(), StepError> {
        let bus = &self.infra.event_bus_name;
        let results = finish(ctx, bus, self.started_at, self.checks, records).await?;
        if results.passed {
            ctx.info(&format!(
                "all {} checks passed; {} events published, every route proven",
                results.checks.len(),
                results.events.len()
            ));
            return Ok(());
        }
        let failed: Vec<String> = results
            .failed()
            .iter()
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        Err(StepError::permanent(format!(
            "{} of {} checks failed: {}",
            failed.len(),
            results.checks.len(),
            failed.join("; ")
        ))
        .with_hint(hint(&results)))
    }
}

// The dead-letter-processor handler factory. Side-effect free at import time; the
// AWS SDK is only reached through the injected `publish` / `loadPublisher`.
import { analyseRecord, chunkEntries, readConfig } from "./lib.mjs";

function defaultLog(obj) {
  let line;
  try {
    line = JSON.stringify(obj);
  } catch (err) {
    line = JSON.stringify({ logType: "LOG_ERROR", reason: String(err?.message ?? err) });
  }
  console.log(line);
}

function errorText(err) {
  if (err === null || err === undefined) return String(err);
  const name = err.name && err.name !== "Error" ? `${err.name}: ` : "";
  return `${name}${err.message ?? String(err)}`;
}

// createHandler({ publish, loadPublisher, env, log, now })
//   publish(entries)  -> Promise<{ FailedEntryCount, Entries: [{ EventId } | { ErrorCode, ErrorMessage }] }>
//                        (the PutEvents response for the given request entries)
//   loadPublisher()   -> Promise<publish>; called lazily, only when something must be re-published
//   env               -> () => environment object (default: process.env, read per invocation)
//   log(obj)          -> writes one structured log line (default: console.log of JSON)
//   now()             -> Date
export function createHandler({ publish, loadPublisher, env = () => process.env, log = defaultLog, now = () => new Date() } = {}) {
  let cachedPublish = publish ?? null;

  async function getPublish() {
    if (cachedPublish) return cachedPublish;
    if (typeof loadPublisher !== "function") throw new Error("no publisher configured");
    const fn = await loadPublisher();
    if (typeof fn !== "function") throw new Error("loadPublisher did not return a function");
    cachedPublish = fn; // only successes are cached: a failed load is retried next invocation
    return fn;
  }

  return async function handler(event) {
    const config = readConfig(typeof env === "function" ? env() : env);
    const at = now();

    if (!event || !Array.isArray(event.Records)) {
      log({ logType: "DLQ_INVALID_EVENT", reason: "event has no Records array", queue: config.dlqUrl });
      return { batchItemFailures: [] };
    }

    const outcomes = event.Records.map((record) => {
      try {
        const analysis = analyseRecord(record, config, at);
        if (analysis.classification === "not_retryable") return { ...analysis, action: "dropped" };
        if (analysis.classification === "kept") return { ...analysis, action: "kept" };
        if (analysis.busError) return { ...analysis, action: "failed", error: analysis.busError };
        return { ...analysis, action: null };
      } catch (err) {
        const messageId = typeof record?.messageId === "string" ? record.messageId : null;
        return { messageId, eventId: null, classification: "retryable", reason: "processor error", action: "failed", error: errorText(err) };
      }
    });

    const pending = outcomes.filter((o) => o.action === null);
    if (pending.length > 0) {
      let publishFn = null;
      try {
        publishFn = await getPublish();
      } catch (err) {
        const error = `AWS SDK unavailable (@aws-sdk/client-eventbridge could not be loaded): ${errorText(err)}`;
        log({ logType: "DLQ_SDK_UNAVAILABLE", reason: error, pendingRecords: pending.length, messageIds: pending.map((o) => o.messageId) });
        for (const o of pending) Object.assign(o, { action: "failed", error });
      }
      if (publishFn) {
        for (const chunk of chunkEntries(pending)) {
          try {
            const response = await publishFn(chunk.map((o) => o.entry));
            const entries = Array.isArray(response?.Entries) ? response.Entries : [];
            chunk.forEach((o, i) => {
              const r = entries[i];
              if (r && typeof r.EventId === "string" && !r.ErrorCode) {
                Object.assign(o, { action: "republished", republishedEventId: r.EventId });
              } else {
                const error = r?.ErrorCode ? `PutEvents entry failed: ${r.ErrorCode}${r.ErrorMessage ? `: ${r.ErrorMessage}` : ""}` : "PutEvents returned no result for this entry";
                Object.assign(o, { action: "failed", error });
              }
            });
          } catch (err) {
            const error = `PutEvents failed: ${errorText(err)}`;
            for (const o of chunk) Object.assign(o, { action: "failed", error });
          }
        }
      }
    }

    const batchItemFailures = [];
    const counts = { republished: 0, dropped: 0, failed: 0, kept: 0 };
    for (const o of outcomes) {
      counts[o.action] += 1;
      if ((o.action === "failed" || o.action === "kept") && o.messageId) batchItemFailures.push({ itemIdentifier: o.messageId });
      const line = {
        logType: "DLQ_RECORD",
        messageId: o.messageId,
        eventId: o.eventId,
        classification: o.classification,
        reason: o.reason,
        action: o.action,
        errorCode: o.errorCode ?? null,
        attempt: o.attempt ?? null,
      };
      if (o.entry) line.eventBusName = o.entry.EventBusName;
      if (o.functionArn) line.functionArn = o.functionArn;
      if (o.republishedEventId) line.republishedEventId = o.republishedEventId;
      if (o.error) line.error = o.error;
      log(line);
    }
    log({ logType: "DLQ_BATCH", records: outcomes.length, ...counts, queue: config.dlqUrl });
    return { batchItemFailures };
  };
}

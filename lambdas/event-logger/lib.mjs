// Pure logic of the event-logger Lambda: no I/O, no globals, safe to import from tests.

export const LOG_TYPE_RECEIVED = "EVENT_RECEIVED";
export const LOG_TYPE_INVALID = "EVENT_INVALID";
export const LOG_TYPE_METRIC = "METRIC";
export const DEFAULT_METRICS_NAMESPACE = "EventBridgeHub";

// Fields copied from event.detail into the EVENT_RECEIVED line when present.
export const OPTIONAL_DETAIL_FIELDS = ["userId", "fileId", "status"];

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isNonEmptyString(value) {
  return typeof value === "string" && value.length > 0;
}

function isScalar(value) {
  return (
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

// Returns the event as an object, or { error } when it cannot be one.
// Accepts a JSON string too (a hand-made `lambda invoke` payload may be a string).
export function normaliseEvent(event) {
  let value = event;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return { error: "event is a string that is not valid JSON" };
    }
  }
  if (!isPlainObject(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
    return { error: `event is not an object (got ${kind})` };
  }
  return { event: value };
}

function detailObject(detail) {
  if (isPlainObject(detail)) return detail;
  if (typeof detail === "string") {
    try {
      const parsed = JSON.parse(detail);
      return isPlainObject(parsed) ? parsed : {};
    } catch {
      return {};
    }
  }
  return {};
}

// A short, bounded, never-throwing description of a malformed value for the log.
function preview(value, max = 200) {
  let text;
  try {
    text = typeof value === "string" ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) text = String(value);
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

export function metricLine({ source, detailType, timestampMs, namespace }) {
  return {
    logType: LOG_TYPE_METRIC,
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [["source", "detailType"]],
          Metrics: [{ Name: "EventsReceived", Unit: "Count" }],
        },
      ],
    },
    source,
    detailType,
    EventsReceived: 1,
  };
}

// Builds the log lines for one invocation and the handler's return value.
// options.now: () => Date; options.namespace: CloudWatch metrics namespace.
export function processEvent(rawEvent, options = {}) {
  const now = options.now ?? (() => new Date());
  const namespace = isNonEmptyString(options.namespace) ? options.namespace : DEFAULT_METRICS_NAMESPACE;
  const timestamp = now();

  const { event, error } = normaliseEvent(rawEvent);
  let reason = error;
  if (!reason) {
    const missing = ["id", "source", "detail-type"].filter((k) => !isNonEmptyString(event[k]));
    if (missing.length > 0) reason = `missing or non-string field(s): ${missing.join(", ")}`;
  }

  if (reason) {
    const eventId = event && isNonEmptyString(event.id) ? event.id : null;
    const line = {
      logType: LOG_TYPE_INVALID,
      eventId,
      reason,
      receivedAt: timestamp.toISOString(),
      input: preview(rawEvent),
    };
    return { lines: [line], result: { status: "invalid", eventId, reason } };
  }

  const detail = detailObject(event.detail);
  const received = {
    logType: LOG_TYPE_RECEIVED,
    eventId: event.id,
    source: event.source,
    detailType: event["detail-type"],
    time: isNonEmptyString(event.time) ? event.time : timestamp.toISOString(),
  };
  for (const field of OPTIONAL_DETAIL_FIELDS) {
    if (isScalar(detail[field])) received[field] = detail[field];
  }

  const metric = metricLine({
    source: event.source,
    detailType: event["detail-type"],
    timestampMs: timestamp.getTime(),
    namespace,
  });

  return { lines: [received, metric], result: { status: "ok", eventId: event.id } };
}

// JSON.stringify that never throws (a BigInt or a cycle becomes a placeholder).
export function toJsonLine(obj) {
  try {
    return JSON.stringify(obj);
  } catch (err) {
    return JSON.stringify({ logType: "LOG_ERROR", reason: `unserialisable log line: ${err?.message ?? err}` });
  }
}

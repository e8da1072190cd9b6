// Pure logic of the dead-letter-processor Lambda: parsing, classification and
// construction of PutEvents entries. No I/O, no globals: safe to import from tests.

export const DEFAULT_MAX_REPUBLISH = 3;
export const DEFAULT_MAX_RECEIVE_COUNT = 5;
// PutEvents accepts at most 10 entries and 256 KiB per request.
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

// EventBridge DLQ ERROR_CODE values (EventBridge user guide, "Using dead-letter queues")
// plus common AWS SDK / HTTP error names, split by whether re-sending can succeed later.
export const RETRYABLE_ERROR_CODES = new Set([
  // EventBridge DLQ codes
  "CONNECTION_FAILURE",
  "EVENTS_IN_BATCH_REQUEST_REJECTED",
  "INTERNAL_ERROR",
  "RESOURCE_LIMIT_EXCEEDED",
  "RESOURCE_MODIFICATION_COLLISION",
  "SDK_CLIENT_ERROR",
  "THROTTLING",
  "TIMEOUT",
  "TRANSIENT_ASSUME_ROLE",
  // AWS service / SDK error names
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "ProvisionedThroughputExceededException",
  "SlowDown",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalError",
  "InternalFailure",
  "InternalServerError",
  "InternalServerException",
  "InternalException",
  "ServiceException",
  "EC2ThrottledException",
  "ECONNRESET",
  "ETIMEDOUT",
  "ECONNREFUSED",
  "EAI_AGAIN",
]);

export const NOT_RETRYABLE_ERROR_CODES = new Set([
  // EventBridge DLQ codes
  "CROSS_ACCOUNT_INGESTION_FAILED",
  "CROSS_REGION_INGESTION_FAILED",
  "FAILED_TO_ASSUME_ROLE",
  "INVALID_JSON",
  "INVALID_PARAMETER",
  "NO_PERMISSIONS",
  "NO_RESOURCE",
  "RESOURCE_ALREADY_EXISTS",
  "THIRD_ACCOUNT_HOP_DETECTED",
  "THIRD_REGION_HOP_DETECTED",
  // AWS service / SDK error names
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "ValidationException",
  "ValidationError",
  "InvalidParameterException",
  "InvalidParameterValueException",
  "InvalidRequestException",
  "InvalidEventPatternException",
  "ResourceNotFoundException",
  "ResourceNotFound",
  "KMSAccessDeniedException",
]);

const RETRYABLE_MESSAGE = /throttl|rate exceeded|too many requests|timed? ?out|timeout|service unavailable|temporar|internal (server )?error|internal failure|connection (reset|refused|failure)|\b(429|5\d\d)\b/i;
const NOT_RETRYABLE_MESSAGE = /access ?denied|not authori[sz]ed|permission|forbidden|invalid|validation|malformed|not found|does not exist|\b(400|401|403|404|413)\b/i;

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function nonNegativeInt(raw, fallback) {
  if (raw === undefined || raw === null || raw === "") return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

// Configuration read from the Lambda environment.
export function readConfig(env = {}) {
  return {
    eventBusName: typeof env.EVENT_BUS_NAME === "string" && env.EVENT_BUS_NAME.trim() !== "" ? env.EVENT_BUS_NAME.trim() : null,
    dlqUrl: typeof env.DLQ_URL === "string" && env.DLQ_URL !== "" ? env.DLQ_URL : null,
    maxRepublish: nonNegativeInt(env.MAX_REPUBLISH, DEFAULT_MAX_REPUBLISH),
    maxReceiveCount: nonNegativeInt(env.MAX_RECEIVE_COUNT, DEFAULT_MAX_RECEIVE_COUNT),
  };
}

// Reads an SQS message attribute as delivered to Lambda ({ stringValue, dataType }),
// tolerating the SQS API casing ({ StringValue }) and plain strings.
export function readAttribute(messageAttributes, name) {
  if (!isPlainObject(messageAttributes)) return null;
  const attr = messageAttributes[name];
  if (attr === undefined || attr === null) return null;
  if (typeof attr === "string") return attr;
  if (typeof attr === "number") return String(attr);
  if (isPlainObject(attr)) {
    const v = attr.stringValue ?? attr.StringValue;
    if (typeof v === "string") return v;
    if (typeof v === "number") return String(v);
  }
  return null;
}

// Bus name from a rule ARN: arn:aws:events:<region>:<account>:rule/<bus>/<rule>.
// A rule on the default bus has no bus segment (rule/<rule>) and yields null.
export function busNameFromRuleArn(ruleArn) {
  if (typeof ruleArn !== "string") return null;
  const m = /^arn:[^:]+:events:[^:]*:[^:]*:rule\/([^/]+)\/[^/]+$/.exec(ruleArn);
  return m ? m[1] : null;
}

// Classifies a delivery error. Returns { retryable: boolean, reason: string }.
// Unknown errors are NOT retryable: the processor only re-publishes on evidence
// that the failure was transient.
export function classifyError(errorCode, errorMessage) {
  const code = typeof errorCode === "string" ? errorCode.trim() : "";
  const message = typeof errorMessage === "string" ? errorMessage : "";
  const suffix = message ? `: ${message}` : "";

  if (code !== "") {
    if (RETRYABLE_ERROR_CODES.has(code)) return { retryable: true, reason: `transient error ${code}${suffix}` };
    if (NOT_RETRYABLE_ERROR_CODES.has(code)) return { retryable: false, reason: `permanent error ${code}${suffix}` };
    if (/^(429|5\d\d)$/.test(code)) return { retryable: true, reason: `transient HTTP ${code}${suffix}` };
    if (/^4\d\d$/.test(code)) return { retryable: false, reason: `permanent HTTP ${code}${suffix}` };
  }
  // ERROR_FROM_TARGET, UNKNOWN, an unlisted code or no code: decide from the message.
  const label = code !== "" ? code : "no ERROR_CODE";
  if (message && RETRYABLE_MESSAGE.test(message)) return { retryable: true, reason: `transient error (${label})${suffix}` };
  if (message && NOT_RETRYABLE_MESSAGE.test(message)) return { retryable: false, reason: `permanent error (${label})${suffix}` };
  return { retryable: false, reason: `unclassified error (${label})${suffix}` };
}

// Number of times this event was already re-published by this processor.
export function replayAttempt(detail) {
  const attempt = isPlainObject(detail) && isPlainObject(detail._replay) ? detail._replay.attempt : undefined;
  return Number.isInteger(attempt) && attempt >= 0 ? attempt : 0;
}

function detailAsObject(detail) {
  if (isPlainObject(detail)) return detail;
  if (typeof detail === "string") {
    try {
      const parsed = JSON.parse(detail);
      if (isPlainObject(parsed)) return parsed;
    } catch {
      /* fall through */
    }
  }
  return null;
}

// Builds the PutEvents entry that re-publishes `event` with the replay counter incremented.
export function buildReplayEntry(event, { eventBusName, attempt, errorCode, messageId, now }) {
  const detail = detailAsObject(event.detail) ?? {};
  const previous = isPlainObject(detail._replay) ? detail._replay : {};
  const replay = {
    attempt,
    originalEventId: typeof previous.originalEventId === "string" ? previous.originalEventId : event.id ?? null,
    lastErrorCode: errorCode ?? null,
    lastMessageId: messageId ?? null,
    republishedAt: now.toISOString(),
  };
  const entry = {
    EventBusName: eventBusName,
    Source: event.source,
    DetailType: event["detail-type"],
    Detail: JSON.stringify({ ...detail, _replay: replay }),
  };
  if (Array.isArray(event.resources) && event.resources.length > 0) {
    entry.Resources = event.resources.filter((r) => typeof r === "string");
  }
  return entry;
}

// PutEvents entry size as AWS computes it (UTF-8 bytes of Source, DetailType, Detail,
// Resources, plus 14 bytes for Time when set).
export function entrySize(entry) {
  let size = 0;
  for (const k of ["Source", "DetailType", "Detail"]) if (typeof entry[k] === "string") size += Buffer.byteLength(entry[k], "utf8");
  for (const r of entry.Resources ?? []) size += Buffer.byteLength(r, "utf8");
  if (entry.Time) size += 14;
  return size;
}

// Splits items (each with .entry) into PutEvents-sized chunks.
export function chunkEntries(items, maxEntries = PUT_EVENTS_MAX_ENTRIES, maxBytes = PUT_EVENTS_MAX_BYTES) {
  const chunks = [];
  let current = [];
  let bytes = 0;
  for (const item of items) {
    const size = entrySize(item.entry);
    if (current.length > 0 && (current.length >= maxEntries || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

// A function's failed asynchronous invocation, as Lambda sends it to its on-failure
// destination: { requestContext: { functionArn, condition, ... }, requestPayload, responseContext,
// responsePayload }. Re-publishing it would hand the event to every route again, and the
// function fails it until it is fixed: it is kept in the queue for `deploy dlq`.
export function isLambdaFailureRecord(body) {
  return isPlainObject(body) && isPlainObject(body.requestContext) && typeof body.requestContext.functionArn === "string" && "requestPayload" in body;
}

// Analyses one SQS record. Returns
// { messageId, eventId, classification, reason, errorCode, attempt, entry? }
// where entry (a PutEvents entry) is present only for retryable records.
export function analyseRecord(record, config, now = new Date()) {
  const messageId = isPlainObject(record) && typeof record.messageId === "string" ? record.messageId : null;
  const base = { messageId, eventId: null, errorCode: null, attempt: null };
  const drop = (reason, extra = {}) => ({ ...base, ...extra, classification: "not_retryable", reason });

  if (!isPlainObject(record)) return drop("record is not an object");

  let event;
  try {
    event = JSON.parse(record.body);
  } catch {
    return drop("malformed JSON body");
  }
  if (!isPlainObject(event)) return drop("body is not a JSON object");

  if (isLambdaFailureRecord(event)) {
    const payload = isPlainObject(event.requestPayload) ? event.requestPayload : {};
    const functionArn = event.requestContext.functionArn;
    return {
      ...base,
      eventId: typeof payload.id === "string" ? payload.id : null,
      errorCode: typeof event.requestContext.condition === "string" ? event.requestContext.condition : null,
      functionArn,
      classification: "kept",
      reason: `failed asynchronous invocation of ${functionArn}: kept in the queue for deploy dlq (export, or redrive once the function is fixed)`,
    };
  }

  const eventId = typeof event.id === "string" ? event.id : null;
  const attrs = record.messageAttributes;
  const errorCode = readAttribute(attrs, "ERROR_CODE");
  const errorMessage = readAttribute(attrs, "ERROR_MESSAGE");
  const ruleArn = readAttribute(attrs, "RULE_ARN");
  const withEvent = { eventId, errorCode };

  if (typeof event.source !== "string" || event.source === "" || typeof event["detail-type"] !== "string" || event["detail-type"] === "") {
    return drop("body is not an EventBridge event (missing source or detail-type)", withEvent);
  }

  const verdict = classifyError(errorCode, errorMessage);
  if (!verdict.retryable) return drop(verdict.reason, withEvent);

  const previous = replayAttempt(detailAsObject(event.detail));
  if (previous >= config.maxRepublish) {
    return drop(`re-publish limit reached (${previous} of MAX_REPUBLISH=${config.maxRepublish}); last error: ${verdict.reason}`, {
      ...withEvent,
      attempt: previous,
    });
  }

  const receiveCount = nonNegativeInt(record.attributes?.ApproximateReceiveCount, 1);
  if (config.maxReceiveCount > 0 && receiveCount > config.maxReceiveCount) {
    return drop(`retry count exceeded: received ${receiveCount} times (MAX_RECEIVE_COUNT=${config.maxReceiveCount}); last error: ${verdict.reason}`, {
      ...withEvent,
      attempt: previous,
    });
  }

  const eventBusName = config.eventBusName ?? busNameFromRuleArn(ruleArn);
  const attempt = previous + 1;
  const result = { ...base, ...withEvent, attempt, classification: "retryable", reason: verdict.reason };
  if (!eventBusName) {
    return { ...result, busError: "EVENT_BUS_NAME is not set and RULE_ARN names no custom bus" };
  }
  result.entry = buildReplayEntry(event, { eventBusName, attempt, errorCode, messageId, now });
  return result;
}

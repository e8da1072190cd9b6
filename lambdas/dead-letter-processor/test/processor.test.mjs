import { test } from "node:test";
import assert from "node:assert/strict";
import {
  analyseRecord,
  busNameFromRuleArn,
  chunkEntries,
  classifyError,
  readAttribute,
  readConfig,
  replayAttempt,
} from "../lib.mjs";
import { createHandler } from "../processor.mjs";
import * as index from "../index.mjs";

const FIXED_NOW = () => new Date("2024-05-01T12:00:00.000Z");
const BUS = "dev-application-events";
const RULE_ARN = `arn:aws:events:us-east-1:000000000000:rule/${BUS}/dev-all-events-to-logger`;

const baseEvent = {
  version: "0",
  id: "7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09",
  "detail-type": "Audio Uploaded",
  source: "custom.upload-service",
  account: "000000000000",
  time: "2024-05-01T11:00:00Z",
  region: "us-east-1",
  resources: ["arn:aws:s3:::dev-audio-uploads"],
  detail: {
    userId: "8b0f8c5e-3a9d-4f7e-9b61-2d4c6e8a1f03",
    fileId: "3c9e2a71-5b4d-4e8f-a1c2-7d6e5f4a3b21",
    s3Location: { bucket: "dev-audio-uploads", key: "u/a.mp3" },
    metadata: { format: "mp3", size: 1024, contentType: "audio/mpeg" },
  },
};

function attr(value) {
  return { stringValue: value, stringListValues: [], binaryListValues: [], dataType: "String" };
}

function record({ messageId = "msg-1", body = baseEvent, errorCode = "THROTTLING", errorMessage, receiveCount = "1", extraAttrs = {} } = {}) {
  const messageAttributes = { RULE_ARN: attr(RULE_ARN), TARGET_ARN: attr("arn:aws:lambda:us-east-1:000000000000:function:dev-event-logger"), ...extraAttrs };
  // errorCode: null means "no ERROR_CODE attribute" (undefined would pick the default).
  if (errorCode !== null) messageAttributes.ERROR_CODE = attr(errorCode);
  if (errorMessage !== undefined) messageAttributes.ERROR_MESSAGE = attr(errorMessage);
  return {
    messageId,
    receiptHandle: "rh",
    body: typeof body === "string" ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: receiveCount, SentTimestamp: "1714561200000" },
    messageAttributes,
    md5OfBody: "x",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:dev-eventbridge-dlq",
    awsRegion: "us-east-1",
  };
}

function withReplay(attempt) {
  return { ...baseEvent, detail: { ...baseEvent.detail, _replay: { attempt, originalEventId: "orig-1" } } };
}

// A fake PutEvents: records every call, answers success (or per-entry errors from `answer`).
function fakePublisher(answer) {
  const calls = [];
  const publish = async (entries) => {
    calls.push(entries);
    if (answer) return answer(entries);
    return { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `new-${calls.length}-${i}` })) };
  };
  return { publish, calls };
}

function harness({ env = { EVENT_BUS_NAME: BUS }, publish, loadPublisher } = {}) {
  const logs = [];
  const handler = createHandler({ publish, loadPublisher, env: () => env, log: (o) => logs.push(o), now: FIXED_NOW });
  return { handler, logs, records: () => logs.filter((l) => l.logType === "DLQ_RECORD") };
}

// ---------------------------------------------------------------- classification

test("classification table", () => {
  const table = [
    // [ERROR_CODE, ERROR_MESSAGE, retryable]
    ["THROTTLING", undefined, true],
    ["TIMEOUT", undefined, true],
    ["INTERNAL_ERROR", undefined, true],
    ["CONNECTION_FAILURE", undefined, true],
    ["SDK_CLIENT_ERROR", undefined, true],
    ["EVENTS_IN_BATCH_REQUEST_REJECTED", undefined, true],
    ["RESOURCE_MODIFICATION_COLLISION", undefined, true],
    ["TRANSIENT_ASSUME_ROLE", undefined, true],
    ["ThrottlingException", undefined, true],
    ["TooManyRequestsException", undefined, true],
    ["ServiceUnavailableException", undefined, true],
    ["503", undefined, true],
    ["429", undefined, true],
    ["NO_PERMISSIONS", undefined, false],
    ["NO_RESOURCE", undefined, false],
    ["INVALID_JSON", undefined, false],
    ["INVALID_PARAMETER", undefined, false],
    ["FAILED_TO_ASSUME_ROLE", undefined, false],
    ["AccessDeniedException", undefined, false],
    ["ValidationException", undefined, false],
    ["ResourceNotFoundException", undefined, false],
    ["403", undefined, false],
    ["ERROR_FROM_TARGET", "Target returned HTTP 502 Bad Gateway", true],
    ["ERROR_FROM_TARGET", "Task timed out after 3.00 seconds", true],
    ["ERROR_FROM_TARGET", "User is not authorized to perform lambda:InvokeFunction", false],
    ["UNKNOWN", "Rate exceeded", true],
    ["UNKNOWN", "Invalid request payload", false],
    ["UNKNOWN", undefined, false],
    [undefined, "ThrottlingException: Rate exceeded", true],
    [undefined, undefined, false],
    ["SOMETHING_NEW", undefined, false],
  ];
  for (const [code, message, retryable] of table) {
    const verdict = classifyError(code, message);
    assert.equal(verdict.retryable, retryable, `${code} / ${message} -> ${verdict.reason}`);
    assert.equal(typeof verdict.reason, "string");
    if (code) assert.ok(verdict.reason.includes(code), verdict.reason);
  }
});

test("record-level classification: malformed body, non-event body, permission error", () => {
  const cfg = readConfig({ EVENT_BUS_NAME: BUS });
  const malformed = analyseRecord(record({ body: "{not json" }), cfg, FIXED_NOW());
  assert.equal(malformed.classification, "not_retryable");
  assert.equal(malformed.reason, "malformed JSON body");
  assert.equal(malformed.eventId, null);

  const notEvent = analyseRecord(record({ body: { hello: "world" } }), cfg, FIXED_NOW());
  assert.equal(notEvent.classification, "not_retryable");
  assert.match(notEvent.reason, /not an EventBridge event/);

  const arrayBody = analyseRecord(record({ body: "[1,2]" }), cfg, FIXED_NOW());
  assert.equal(arrayBody.classification, "not_retryable");

  const denied = analyseRecord(record({ errorCode: "NO_PERMISSIONS", errorMessage: "Access denied" }), cfg, FIXED_NOW());
  assert.equal(denied.classification, "not_retryable");
  assert.equal(denied.eventId, baseEvent.id);
  assert.equal(denied.entry, undefined);
});

test("readAttribute accepts Lambda, SQS-API and plain shapes", () => {
  assert.equal(readAttribute({ A: { stringValue: "x", dataType: "String" } }, "A"), "x");
  assert.equal(readAttribute({ A: { StringValue: "y", DataType: "String" } }, "A"), "y");
  assert.equal(readAttribute({ A: "z" }, "A"), "z");
  assert.equal(readAttribute({ A: { dataType: "Binary" } }, "A"), null);
  assert.equal(readAttribute(undefined, "A"), null);
  assert.equal(readAttribute({}, "A"), null);
});

test("readConfig defaults and validation", () => {
  assert.deepEqual(readConfig({}), { eventBusName: null, dlqUrl: null, maxRepublish: 3, maxReceiveCount: 5 });
  const cfg = readConfig({ EVENT_BUS_NAME: " bus ", DLQ_URL: "http://q", MAX_REPUBLISH: "5", MAX_RECEIVE_COUNT: "0" });
  assert.deepEqual(cfg, { eventBusName: "bus", dlqUrl: "http://q", maxRepublish: 5, maxReceiveCount: 0 });
  assert.equal(readConfig({ MAX_REPUBLISH: "-1" }).maxRepublish, 3);
  assert.equal(readConfig({ MAX_REPUBLISH: "abc" }).maxRepublish, 3);
  assert.equal(readConfig({ MAX_REPUBLISH: "0" }).maxRepublish, 0);
});

test("busNameFromRuleArn and replayAttempt", () => {
  assert.equal(busNameFromRuleArn(RULE_ARN), BUS);
  assert.equal(busNameFromRuleArn("arn:aws:events:us-east-1:1:rule/default-bus-rule"), null);
  assert.equal(busNameFromRuleArn(undefined), null);
  assert.equal(replayAttempt({ _replay: { attempt: 2 } }), 2);
  assert.equal(replayAttempt({ _replay: { attempt: "2" } }), 0);
  assert.equal(replayAttempt({}), 0);
  assert.equal(replayAttempt(null), 0);
});

// ---------------------------------------------------------------- re-publish path

test("retryable record is re-published with the PutEvents entry preserved and attempt incremented", async () => {
  const fake = fakePublisher();
  const { handler, records } = harness({ publish: fake.publish });
  const result = await handler({ Records: [record()] });

  assert.deepEqual(result, { batchItemFailures: [] });
  assert.equal(fake.calls.length, 1);
  assert.equal(fake.calls[0].length, 1);
  const entry = fake.calls[0][0];
  assert.equal(entry.EventBusName, BUS);
  assert.equal(entry.Source, baseEvent.source);
  assert.equal(entry.DetailType, baseEvent["detail-type"]);
  assert.deepEqual(entry.Resources, baseEvent.resources);
  const detail = JSON.parse(entry.Detail);
  const { _replay, ...rest } = detail;
  assert.deepEqual(rest, baseEvent.detail);
  assert.equal(_replay.attempt, 1);
  assert.equal(_replay.originalEventId, baseEvent.id);
  assert.equal(_replay.lastErrorCode, "THROTTLING");
  assert.equal(_replay.lastMessageId, "msg-1");
  assert.equal(_replay.republishedAt, "2024-05-01T12:00:00.000Z");

  const [line] = records();
  assert.deepEqual(
    { logType: line.logType, messageId: line.messageId, eventId: line.eventId, classification: line.classification, action: line.action },
    { logType: "DLQ_RECORD", messageId: "msg-1", eventId: baseEvent.id, classification: "retryable", action: "republished" },
  );
  assert.equal(typeof line.reason, "string");
  assert.equal(line.republishedEventId, "new-1-0");
});

test("a second replay increments the existing counter and keeps the original event id", async () => {
  const fake = fakePublisher();
  const { handler } = harness({ publish: fake.publish });
  await handler({ Records: [record({ body: withReplay(2) })] });
  const replay = JSON.parse(fake.calls[0][0].Detail)._replay;
  assert.equal(replay.attempt, 3);
  assert.equal(replay.originalEventId, "orig-1");
});

test("EVENT_BUS_NAME comes from the environment, read at invocation time", async () => {
  const fake = fakePublisher();
  const env = { EVENT_BUS_NAME: "first-bus" };
  const logs = [];
  const handler = createHandler({ publish: fake.publish, env: () => env, log: (o) => logs.push(o), now: FIXED_NOW });
  await handler({ Records: [record()] });
  env.EVENT_BUS_NAME = "second-bus";
  await handler({ Records: [record()] });
  assert.equal(fake.calls[0][0].EventBusName, "first-bus");
  assert.equal(fake.calls[1][0].EventBusName, "second-bus");
});

test("without EVENT_BUS_NAME the bus is taken from RULE_ARN; with neither the record fails", async () => {
  const fake = fakePublisher();
  const a = harness({ env: {}, publish: fake.publish });
  await a.handler({ Records: [record()] });
  assert.equal(fake.calls[0][0].EventBusName, BUS);

  const b = harness({ env: {}, publish: fake.publish });
  const rec = record({ extraAttrs: { RULE_ARN: attr("arn:aws:events:us-east-1:000000000000:rule/on-default-bus") } });
  const result = await b.handler({ Records: [rec] });
  assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "msg-1" }] });
  assert.equal(fake.calls.length, 1, "nothing published to the default bus");
  assert.equal(b.records()[0].action, "failed");
});

test("re-publish limit: attempt == MAX_REPUBLISH is dropped, below is re-published", async () => {
  const fake = fakePublisher();
  const { handler, records } = harness({ env: { EVENT_BUS_NAME: BUS, MAX_REPUBLISH: "2" }, publish: fake.publish });
  const result = await handler({
    Records: [record({ messageId: "below", body: withReplay(1) }), record({ messageId: "at", body: withReplay(2) }), record({ messageId: "above", body: withReplay(7) })],
  });
  assert.deepEqual(result, { batchItemFailures: [] });
  assert.equal(fake.calls.length, 1);
  assert.equal(fake.calls[0].length, 1);
  assert.equal(JSON.parse(fake.calls[0][0].Detail)._replay.attempt, 2);
  const byId = Object.fromEntries(records().map((l) => [l.messageId, l]));
  assert.equal(byId.below.action, "republished");
  for (const id of ["at", "above"]) {
    assert.equal(byId[id].classification, "not_retryable");
    assert.equal(byId[id].action, "dropped");
    assert.match(byId[id].reason, /re-publish limit reached/);
  }
});

test("default MAX_REPUBLISH is 3", async () => {
  const fake = fakePublisher();
  const { handler, records } = harness({ publish: fake.publish });
  await handler({ Records: [record({ messageId: "two", body: withReplay(2) }), record({ messageId: "three", body: withReplay(3) })] });
  const byId = Object.fromEntries(records().map((l) => [l.messageId, l]));
  assert.equal(byId.two.action, "republished");
  assert.equal(byId.three.action, "dropped");
});

test("retry count exceeded (ApproximateReceiveCount > MAX_RECEIVE_COUNT) is dropped", async () => {
  const fake = fakePublisher();
  const { handler, records } = harness({ env: { EVENT_BUS_NAME: BUS, MAX_RECEIVE_COUNT: "3" }, publish: fake.publish });
  const result = await handler({ Records: [record({ receiveCount: "4" })] });
  assert.deepEqual(result, { batchItemFailures: [] });
  assert.equal(fake.calls.length, 0);
  assert.equal(records()[0].action, "dropped");
  assert.match(records()[0].reason, /retry count exceeded/);
});

// ---------------------------------------------------------------- failures

test("missing SDK: loader throws -> retryable records reported in batchItemFailures, SDK line logged", async () => {
  let loads = 0;
  const { handler, logs, records } = harness({
    loadPublisher: async () => {
      loads += 1;
      const err = new Error("Cannot find package '@aws-sdk/client-eventbridge'");
      err.code = "ERR_MODULE_NOT_FOUND";
      throw err;
    },
  });
  const result = await handler({
    Records: [record({ messageId: "r1" }), record({ messageId: "r2", errorCode: "TIMEOUT" }), record({ messageId: "bad", body: "nope" })],
  });
  assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "r1" }, { itemIdentifier: "r2" }] });
  assert.equal(loads, 1, "loader called once per invocation");
  const sdkLine = logs.find((l) => l.logType === "DLQ_SDK_UNAVAILABLE");
  assert.ok(sdkLine, "an SDK-unavailable line is logged");
  assert.match(sdkLine.reason, /AWS SDK unavailable/);
  const byId = Object.fromEntries(records().map((l) => [l.messageId, l]));
  assert.equal(byId.r1.action, "failed");
  assert.equal(byId.r1.classification, "retryable");
  assert.match(byId.r1.error, /AWS SDK unavailable/);
  assert.equal(byId.bad.action, "dropped");

  // A failed load is not cached: the next invocation tries again.
  await handler({ Records: [record()] });
  assert.equal(loads, 2);
});

test("loader is not called when nothing needs re-publishing", async () => {
  let loads = 0;
  const { handler } = harness({
    loadPublisher: async () => {
      loads += 1;
      throw new Error("should not be called");
    },
  });
  const result = await handler({ Records: [record({ errorCode: "NO_PERMISSIONS" }), record({ messageId: "m2", body: "{" })] });
  assert.deepEqual(result, { batchItemFailures: [] });
  assert.equal(loads, 0);
});

test("a successful loader is cached across invocations", async () => {
  const fake = fakePublisher();
  let loads = 0;
  const { handler } = harness({
    loadPublisher: async () => {
      loads += 1;
      return fake.publish;
    },
  });
  await handler({ Records: [record()] });
  await handler({ Records: [record()] });
  assert.equal(loads, 1);
  assert.equal(fake.calls.length, 2);
});

test("the real index.mjs handler reports the SDK as unavailable on this machine", async (t) => {
  let sdkPresent = true;
  try {
    await index.loadSdkModule();
  } catch {
    sdkPresent = false;
  }
  if (sdkPresent) {
    t.skip("@aws-sdk/client-eventbridge is resolvable here");
    return;
  }
  assert.equal(typeof index.handler, "function");
  assert.equal(typeof index.createHandler, "function");
  await assert.rejects(index.loadSdkPublisher());
  const logs = [];
  const h = index.createHandler({ loadPublisher: () => index.loadSdkPublisher(), env: () => ({ EVENT_BUS_NAME: BUS }), log: (o) => logs.push(o) });
  const result = await h({ Records: [record()] });
  assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "msg-1" }] });
  assert.ok(logs.some((l) => l.logType === "DLQ_SDK_UNAVAILABLE"));
});

test("PutEvents per-entry failure and thrown error are reported as batch item failures", async () => {
  const partial = fakePublisher((entries) => ({
    FailedEntryCount: 1,
    Entries: entries.map((_, i) => (i === 1 ? { ErrorCode: "InternalFailure", ErrorMessage: "boom" } : { EventId: `ok-${i}` })),
  }));
  const a = harness({ publish: partial.publish });
  const result = await a.handler({ Records: [record({ messageId: "a" }), record({ messageId: "b" })] });
  assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "b" }] });
  const byId = Object.fromEntries(a.records().map((l) => [l.messageId, l]));
  assert.equal(byId.a.action, "republished");
  assert.equal(byId.b.action, "failed");
  assert.match(byId.b.error, /InternalFailure/);

  const b = harness({
    publish: async () => {
      throw Object.assign(new Error("socket hang up"), { name: "TimeoutError" });
    },
  });
  const r2 = await b.handler({ Records: [record({ messageId: "x" })] });
  assert.deepEqual(r2, { batchItemFailures: [{ itemIdentifier: "x" }] });
  assert.match(b.records()[0].error, /PutEvents failed: TimeoutError: socket hang up/);
});

test("not-retryable records are consumed: never in batchItemFailures, logged as dropped", async () => {
  const fake = fakePublisher();
  const { handler, records, logs } = harness({ publish: fake.publish });
  const result = await handler({
    Records: [
      record({ messageId: "json", body: "{{{" }),
      record({ messageId: "perm", errorCode: "NO_PERMISSIONS" }),
      record({ messageId: "inv", errorCode: "INVALID_PARAMETER" }),
      record({ messageId: "unk", errorCode: null }),
    ],
  });
  assert.deepEqual(result, { batchItemFailures: [] });
  assert.equal(fake.calls.length, 0);
  const lines = records();
  assert.equal(lines.length, 4);
  for (const l of lines) {
    assert.equal(l.logType, "DLQ_RECORD");
    assert.equal(l.classification, "not_retryable");
    assert.equal(l.action, "dropped");
    for (const k of ["messageId", "eventId", "classification", "reason", "action"]) assert.ok(k in l, k);
  }
  const summary = logs.find((l) => l.logType === "DLQ_BATCH");
  assert.deepEqual({ records: summary.records, dropped: summary.dropped, republished: summary.republished, failed: summary.failed }, { records: 4, dropped: 4, republished: 0, failed: 0 });
});

test("a function's failed asynchronous invocation is kept in the queue, never re-published", async () => {
  const fake = fakePublisher();
  const { handler, records, logs } = harness({ publish: fake.publish });
  const failure = {
    version: "1.0",
    requestContext: { requestId: "r", functionArn: "arn:aws:lambda:us-east-1:000000000000:function:dev-event-logger:live", condition: "RetriesExhausted", approximateInvokeCount: 3 },
    requestPayload: baseEvent,
    responseContext: { statusCode: 200, executedVersion: "2", functionError: "Unhandled" },
    responsePayload: { errorType: "Error", errorMessage: "boom" },
  };
  const result = await handler({ Records: [record({ messageId: "lambda", body: failure, errorCode: null })] });
  assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "lambda" }] });
  assert.equal(fake.calls.length, 0);
  const [line] = records();
  assert.equal(line.classification, "kept");
  assert.equal(line.action, "kept");
  assert.equal(line.eventId, baseEvent.id);
  assert.equal(line.errorCode, "RetriesExhausted");
  assert.match(line.functionArn, /dev-event-logger:live$/);
  const summary = logs.find((l) => l.logType === "DLQ_BATCH");
  assert.equal(summary.kept, 1);
});

test("mixed batch: one PutEvents call for all retryable records, failures only for failed ones", async () => {
  const fake = fakePublisher();
  const { handler, records } = harness({ publish: fake.publish });
  const result = await handler({
    Records: [record({ messageId: "r1" }), record({ messageId: "d1", errorCode: "NO_RESOURCE" }), record({ messageId: "r2", errorCode: "INTERNAL_ERROR" })],
  });
  assert.deepEqual(result, { batchItemFailures: [] });
  assert.equal(fake.calls.length, 1);
  assert.equal(fake.calls[0].length, 2);
  assert.deepEqual(records().map((l) => [l.messageId, l.action]), [["r1", "republished"], ["d1", "dropped"], ["r2", "republished"]]);
});

test("PutEvents chunks: at most 10 entries per call", async () => {
  const fake = fakePublisher();
  const { handler } = harness({ publish: fake.publish });
  const recs = Array.from({ length: 23 }, (_, i) => record({ messageId: `m${i}` }));
  const result = await handler({ Records: recs });
  assert.deepEqual(result, { batchItemFailures: [] });
  assert.deepEqual(fake.calls.map((c) => c.length), [10, 10, 3]);
  const big = { entry: { Source: "s", DetailType: "d", Detail: "x".repeat(200 * 1024) } };
  assert.deepEqual(chunkEntries([big, big, big]).map((c) => c.length), [1, 1, 1]);
});

test("an event without Records does not throw", async () => {
  const { handler, logs } = harness({});
  assert.deepEqual(await handler(undefined), { batchItemFailures: [] });
  assert.deepEqual(await handler({}), { batchItemFailures: [] });
  assert.ok(logs.some((l) => l.logType === "DLQ_INVALID_EVENT"));
});

test("every log line is single-line JSON (default logger)", async () => {
  const { mock } = await import("node:test");
  const out = [];
  const spy = mock.method(console, "log", (s) => out.push(s));
  try {
    const fake = fakePublisher();
    const h = createHandler({ publish: fake.publish, env: () => ({ EVENT_BUS_NAME: BUS }) });
    await h({ Records: [record(), record({ messageId: "m2", body: "oops" })] });
  } finally {
    spy.mock.restore();
  }
  assert.equal(out.length, 3);
  for (const s of out) {
    assert.equal(typeof s, "string");
    assert.ok(!s.includes("\n"));
    JSON.parse(s);
  }
});

// ---------------------------------------------------------------- SDK loading (index.mjs)

function fakeSdkModule(sent) {
  class PutEventsCommand {
    constructor(input) {
      this.input = input;
    }
  }
  class EventBridgeClient {
    async send(cmd) {
      sent.push(cmd.input);
      return { FailedEntryCount: 0, Entries: cmd.input.Entries.map((_, i) => ({ EventId: `sdk-${i}` })) };
    }
  }
  return { PutEventsCommand, EventBridgeClient };
}

test("loadSdkModule: ESM import first", async () => {
  const sent = [];
  const mod = fakeSdkModule(sent);
  let required = false;
  const got = await index.loadSdkModule({ importer: async () => mod, requirer: () => { required = true; } });
  assert.equal(got, mod);
  assert.equal(required, false);
});

test("loadSdkModule: falls back to CommonJS require when import fails (ministack's stub path)", async () => {
  const sent = [];
  const publish = await index.loadSdkPublisher({
    importer: async () => {
      throw new Error("Cannot find package");
    },
    requirer: () => fakeSdkModule(sent),
  });
  const fake = harness({ loadPublisher: async () => publish });
  const result = await fake.handler({ Records: [record()] });
  assert.deepEqual(result, { batchItemFailures: [] });
  assert.equal(sent.length, 1);
  assert.equal(sent[0].Entries[0].EventBusName, BUS);
});

test("loadSdkModule: both loaders failing gives one error naming both", async () => {
  await assert.rejects(
    index.loadSdkModule({
      importer: async () => {
        throw new Error("import-broke");
      },
      requirer: () => {
        throw new Error("require-broke");
      },
    }),
    (err) => /import-broke/.test(err.message) && /require-broke/.test(err.message),
  );
  await assert.rejects(index.loadSdkModule({ importer: async () => ({}), requirer: () => ({}) }), /no PutEventsCommand/);
});

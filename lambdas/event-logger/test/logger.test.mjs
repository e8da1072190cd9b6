import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { processEvent, toJsonLine, OPTIONAL_DETAIL_FIELDS } from "../lib.mjs";
import { handler } from "../index.mjs";

const FIXED_NOW = () => new Date("2024-05-01T12:00:00.000Z");

const audioEvent = {
  version: "0",
  id: "0f6b1c3e-4a55-4b8e-9d2a-6c1e2f3a4b5c",
  "detail-type": "Audio Uploaded",
  source: "custom.upload-service",
  account: "000000000000",
  time: "2024-05-01T11:59:59Z",
  region: "us-east-1",
  resources: [],
  detail: {
    userId: "8b0f8c5e-3a9d-4f7e-9b61-2d4c6e8a1f03",
    fileId: "3c9e2a71-5b4d-4e8f-a1c2-7d6e5f4a3b21",
    s3Location: { bucket: "b", key: "k" },
  },
};

// Runs the real handler with console.log captured; returns { result, lines (parsed JSON) }.
async function runHandler(event) {
  const logs = [];
  const spy = mock.method(console, "log", (...args) => logs.push(args.join(" ")));
  try {
    const result = await handler(event);
    return { result, raw: logs, lines: logs.map((l) => JSON.parse(l)) };
  } finally {
    spy.mock.restore();
  }
}

test("valid event: one EVENT_RECEIVED line with the exact shape, then one METRIC line", () => {
  const { lines, result } = processEvent(audioEvent, { now: FIXED_NOW });
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[0], {
    logType: "EVENT_RECEIVED",
    eventId: audioEvent.id,
    source: "custom.upload-service",
    detailType: "Audio Uploaded",
    time: "2024-05-01T11:59:59Z",
    userId: audioEvent.detail.userId,
    fileId: audioEvent.detail.fileId,
  });
  assert.deepEqual(result, { status: "ok", eventId: audioEvent.id });
});

test("metric line is CloudWatch Embedded Metric Format with source/detailType dimensions", () => {
  const { lines } = processEvent(audioEvent, { now: FIXED_NOW, namespace: "Test/NS" });
  const metric = lines[1];
  assert.equal(metric.logType, "METRIC");
  assert.equal(metric.EventsReceived, 1);
  assert.equal(metric.source, "custom.upload-service");
  assert.equal(metric.detailType, "Audio Uploaded");
  assert.equal(metric._aws.Timestamp, FIXED_NOW().getTime());
  const directive = metric._aws.CloudWatchMetrics[0];
  assert.equal(directive.Namespace, "Test/NS");
  assert.deepEqual(directive.Dimensions, [["source", "detailType"]]);
  assert.deepEqual(directive.Metrics, [{ Name: "EventsReceived", Unit: "Count" }]);
});

test("default metrics namespace is used when none is configured", () => {
  const { lines } = processEvent(audioEvent, { now: FIXED_NOW });
  assert.equal(lines[1]._aws.CloudWatchMetrics[0].Namespace, "EventBridgeHub");
});

test("optional fields: status included when present, absent fields omitted (not null)", () => {
  const event = {
    ...audioEvent,
    source: "custom.transcription-service",
    "detail-type": "Transcription Completed",
    detail: { status: "completed", jobId: "x" },
  };
  const [line] = processEvent(event, { now: FIXED_NOW }).lines;
  assert.equal(line.status, "completed");
  assert.ok(!("userId" in line));
  assert.ok(!("fileId" in line));
  assert.deepEqual(OPTIONAL_DETAIL_FIELDS, ["userId", "fileId", "status"]);
});

test("missing or odd detail never throws and yields no optional fields", () => {
  for (const detail of [undefined, null, "not json", 42, ["a"], { userId: { nested: true } }]) {
    const event = { ...audioEvent, detail };
    const { lines, result } = processEvent(event, { now: FIXED_NOW });
    assert.equal(result.status, "ok");
    assert.equal(lines[0].logType, "EVENT_RECEIVED");
    assert.ok(!("userId" in lines[0]));
  }
});

test("detail given as a JSON string is parsed", () => {
  const event = { ...audioEvent, detail: JSON.stringify({ userId: "u-1", status: "partial" }) };
  const [line] = processEvent(event, { now: FIXED_NOW }).lines;
  assert.equal(line.userId, "u-1");
  assert.equal(line.status, "partial");
});

test("missing time falls back to the invocation time", () => {
  const { time, ...noTime } = audioEvent;
  const [line] = processEvent(noTime, { now: FIXED_NOW }).lines;
  assert.equal(line.time, "2024-05-01T12:00:00.000Z");
});

test("malformed input: one EVENT_INVALID line and a returned result, never a throw", () => {
  const cases = [
    undefined,
    null,
    42,
    "not json at all",
    ["an", "array"],
    {},
    { id: "abc" },
    { id: "abc", source: "custom.x" },
    { id: 5, source: "custom.x", "detail-type": "X" },
  ];
  for (const input of cases) {
    const { lines, result } = processEvent(input, { now: FIXED_NOW });
    assert.equal(lines.length, 1, `input ${JSON.stringify(input)}`);
    assert.equal(lines[0].logType, "EVENT_INVALID");
    assert.equal(typeof lines[0].reason, "string");
    assert.equal(result.status, "invalid");
  }
  const { lines } = processEvent({ id: "abc", source: "custom.x" }, { now: FIXED_NOW });
  assert.equal(lines[0].eventId, "abc");
  assert.match(lines[0].reason, /detail-type/);
});

test("an event passed as a JSON string is accepted", () => {
  const { result } = processEvent(JSON.stringify(audioEvent), { now: FIXED_NOW });
  assert.deepEqual(result, { status: "ok", eventId: audioEvent.id });
});

test("toJsonLine never throws", () => {
  const cyclic = {};
  cyclic.self = cyclic;
  const parsed = JSON.parse(toJsonLine(cyclic));
  assert.equal(parsed.logType, "LOG_ERROR");
  assert.equal(JSON.parse(toJsonLine({ a: 1n })).logType, "LOG_ERROR");
});

test("handler writes exactly two single-line JSON logs and returns {status:'ok', eventId}", async () => {
  const { result, raw, lines } = await runHandler(audioEvent);
  assert.deepEqual(result, { status: "ok", eventId: audioEvent.id });
  assert.equal(raw.length, 2);
  for (const l of raw) assert.ok(!l.includes("\n"));
  assert.equal(lines[0].logType, "EVENT_RECEIVED");
  assert.equal(lines[0].eventId, audioEvent.id);
  assert.equal(lines[1].logType, "METRIC");
  // The raw line is searchable by the literal token and the event id.
  assert.ok(raw[0].includes('"logType":"EVENT_RECEIVED"'));
  assert.ok(raw[0].includes(`"eventId":"${audioEvent.id}"`));
});

test("handler on malformed input logs EVENT_INVALID and resolves", async () => {
  const { result, lines } = await runHandler(null);
  assert.equal(result.status, "invalid");
  assert.equal(lines.length, 1);
  assert.equal(lines[0].logType, "EVENT_INVALID");
});

test("every sample event in examples/ is logged as EVENT_RECEIVED with its detail fields", async () => {
  const { readdirSync, readFileSync } = await import("node:fs");
  const dir = new URL("../../../examples/", import.meta.url);
  // examples/<event>/v<N>[-label].json: one directory per event type, one file per sample.
  const files = readdirSync(dir, { recursive: true }).filter((f) => f.endsWith(".json"));
  assert.ok(files.length >= 7, `found ${files.length} examples`);
  for (const file of files) {
    const sample = JSON.parse(readFileSync(new URL(file, dir), "utf8"));
    const event = { version: "0", id: `id-${file}`, account: "000000000000", region: "us-east-1", time: "2024-05-01T12:00:00Z", resources: [], ...sample };
    const { lines, result } = processEvent(event, { now: FIXED_NOW });
    assert.equal(result.status, "ok", file);
    assert.equal(lines[0].logType, "EVENT_RECEIVED", file);
    assert.equal(lines[0].eventId, `id-${file}`);
    assert.equal(lines[0].source, sample.source);
    assert.equal(lines[0].detailType, sample["detail-type"]);
    assert.equal(lines[0].userId, sample.detail.userId, file);
    if (sample.detail.fileId) assert.equal(lines[0].fileId, sample.detail.fileId, file);
    if (sample.detail.status) assert.equal(lines[0].status, sample.detail.status, file);
  }
});

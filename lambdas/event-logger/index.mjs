// event-logger Lambda (runtime nodejs20.x, handler "index.handler").
// Target of the "{env}-all-events-to-logger" rule: writes one EVENT_RECEIVED JSON line
// and one CloudWatch Embedded Metric Format line per event. Never throws.
import { processEvent, toJsonLine } from "./lib.mjs";

export const handler = async (event) => {
  try {
    const { lines, result } = processEvent(event, { namespace: process.env.METRICS_NAMESPACE });
    for (const line of lines) console.log(toJsonLine(line));
    return result;
  } catch (err) {
    // Defensive: processEvent is written not to throw, but a logger must never fail its caller.
    const reason = `internal error: ${err?.message ?? err}`;
    console.log(toJsonLine({ logType: "EVENT_INVALID", eventId: null, reason }));
    return { status: "invalid", eventId: null, reason };
  }
};

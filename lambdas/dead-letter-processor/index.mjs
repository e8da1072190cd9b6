// dead-letter-processor Lambda (runtime nodejs20.x, handler "index.handler").
// Triggered by an SQS event source mapping on the EventBridge dead-letter queue, with
// FunctionResponseTypes ["ReportBatchItemFailures"] so that `batchItemFailures` is honoured.
//
// The AWS SDK for JavaScript v3 is imported lazily: it is present in the AWS Lambda
// nodejs20.x runtime but absent where some emulators run handlers. Without it, records that
// need re-publishing are reported as batch item failures; everything else still works.
import { createHandler } from "./processor.mjs";

export { createHandler } from "./processor.mjs";

export async function loadSdkPublisher() {
  const { EventBridgeClient, PutEventsCommand } = await import("@aws-sdk/client-eventbridge");
  const client = new EventBridgeClient({});
  return (entries) => client.send(new PutEventsCommand({ Entries: entries }));
}

export const handler = createHandler({ loadPublisher: loadSdkPublisher });

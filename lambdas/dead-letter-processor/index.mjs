// dead-letter-processor Lambda (runtime nodejs20.x, handler "index.handler").
// Triggered by an SQS event source mapping on the EventBridge dead-letter queue, with
// FunctionResponseTypes ["ReportBatchItemFailures"] so that `batchItemFailures` is honoured.
//
// The AWS SDK for JavaScript v3 is loaded lazily, only when a record must be re-published:
//   1. ESM `import("@aws-sdk/client-eventbridge")` (the AWS Lambda nodejs20.x runtime);
//   2. else CommonJS `require` of the same package via createRequire (resolves through
//      NODE_PATH, and is what some emulators, ministack included, answer with a stub that
//      calls the emulator);
//   3. else the records to re-publish are reported as batch item failures and a
//      DLQ_SDK_UNAVAILABLE line is logged; everything else still works.
import { createRequire } from "node:module";
import { createHandler } from "./processor.mjs";

export { createHandler } from "./processor.mjs";

export const SDK_PACKAGE = "@aws-sdk/client-eventbridge";

const defaultImporter = (id) => import(id);
const defaultRequirer = (id) => createRequire(import.meta.url)(id);

// Resolves the EventBridge SDK module, or throws an Error naming both failures.
export async function loadSdkModule({ importer = defaultImporter, requirer = defaultRequirer } = {}) {
  let importError;
  try {
    const mod = await importer(SDK_PACKAGE);
    if (mod && typeof mod.PutEventsCommand === "function") return mod;
    importError = new Error("module has no PutEventsCommand");
  } catch (err) {
    importError = err;
  }
  try {
    const mod = requirer(SDK_PACKAGE);
    if (mod && typeof mod.PutEventsCommand === "function") return mod;
    throw new Error("module has no PutEventsCommand");
  } catch (requireError) {
    throw new Error(`${SDK_PACKAGE} not loadable: import: ${importError?.message ?? importError}; require: ${requireError?.message ?? requireError}`);
  }
}

// Returns publish(entries) -> PutEvents response, backed by the SDK.
export async function loadSdkPublisher(loaders) {
  const { EventBridgeClient, PutEventsCommand } = await loadSdkModule(loaders);
  const client = new EventBridgeClient({});
  return (entries) => client.send(new PutEventsCommand({ Entries: entries }));
}

export const handler = createHandler({ loadPublisher: () => loadSdkPublisher() });

// A separate process that refreshes a Codex home through the compiled provider, for the cross-process
// test in token-refresh-lock.test.ts. Plain .mjs so that Node 20 runs it without a TypeScript loader.
//
// Usage: node refresh-child.mjs <module-url> <codex-home> <token-url> <ready-file> <start-file>
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";

const [moduleUrl, home, tokenUrl, readyFile, startFile] = process.argv.slice(2);
const { createCodexHomeCredentials } = await import(moduleUrl);

const logger = {
  debug() {},
  info: (msg) => process.stderr.write(`${msg}\n`),
  warn: (msg) => process.stderr.write(`${msg}\n`),
  error: (msg) => process.stderr.write(`${msg}\n`),
};
const credentials = createCodexHomeCredentials({ home, tokenUrl, logger, lock: { pollIntervalMs: 5 } });

// Start barrier: say we are ready, then spin until the test opens the gate so both children race.
await writeFile(readyFile, String(process.pid));
while (!existsSync(startFile)) await new Promise((resolve) => setTimeout(resolve, 1));

const result = await credentials.get();
process.stdout.write(JSON.stringify({ accessToken: result.accessToken, accountId: result.accountId }));

// Runs `createExactFetch` under Bun (Vitest runs on Node) against the test's loopback server and prints
// one JSON line per case: the Bun transport (`createBunSocketFetch`) is only reachable from a Bun process.
import { readFileSync } from "node:fs";
import {
  CODEX_CLI_VERSION,
  createCodexHttpBackend,
  createExactFetch,
  createMemoryImageStore,
} from "@codex-img/core";
import { mintFakeTokens, testImage } from "@codex-img/core/testing";

const [base, secureBase, caPath] = process.argv.slice(2);
if (!base || !secureBase || !caPath)
  throw new Error("usage: exact-fetch-child.ts <base> <secureBase> <caPath>");
const exact = createExactFetch();
const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};
const headers: Array<[string, string]> = [
  ["user-agent", "ua/1"],
  ["authorization", "Bearer t"],
  ["content-type", "application/json"],
];

async function run(name: string, work: () => Promise<unknown>): Promise<void> {
  try {
    print({ name, ...((await work()) as object) });
  } catch (error) {
    print({ name, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
}

const text = async (path: string, init: RequestInit = {}, fetcher = exact) => {
  const response = await fetcher(`${base}${path}`, init);
  return { status: response.status, order: response.headers.get("x-order"), text: await response.text() };
};

await run("plain", () => text("/plain", { method: "POST", headers, body: '{"a":1}' }));
await run("plain-again", () => text("/plain", { method: "POST", headers, body: '{"a":1}' }));
await run("node-http", () =>
  text("/plain", { method: "POST", headers, body: '{"a":1}' }, createExactFetch({ transport: "node:http" })),
);
await run("chunked", () => text("/chunked"));
await run("close-delimited", () => text("/close"));
await run("interim", async () => {
  const response = await exact(`${base}/interim`);
  return { status: response.status, a: response.headers.get("x-a"), body: response.body === null };
});
await run("streamed-body", async () => {
  const chunk = new Uint8Array(1024 * 1024).fill(7);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 4) controller.close();
      else {
        sent++;
        controller.enqueue(chunk);
      }
    },
  });
  return text("/count", {
    method: "POST",
    headers: [...headers, ["content-length", String(4 * chunk.length)]],
    body,
    duplex: "half",
  } as RequestInit);
});
await run("early-reply", async () => {
  // A body far larger than the socket takes at once, which the server refuses before reading it.
  const chunk = new Uint8Array(1024 * 1024);
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(chunk);
    },
    cancel() {
      cancelled = true;
    },
  });
  const reply = await text("/early", {
    method: "POST",
    headers: [["content-length", String(64 * chunk.length)]],
    body,
    duplex: "half",
  } as RequestInit);
  // The source is cancelled once the socket is gone (the server closed it after its reply).
  for (let i = 0; i < 50 && !cancelled; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return { ...reply, cancelled };
});
await run("idle-close", async () => {
  await text("/idle-close");
  await new Promise((resolve) => setTimeout(resolve, 300));
  return text("/plain", { method: "POST", headers, body: '{"a":1}' });
});
await run("abort", async () => {
  const controller = new AbortController();
  const response = await exact(`${base}/stall`, { signal: controller.signal });
  const reader = response.body?.getReader();
  const first = await reader?.read();
  controller.abort();
  const rest = await reader?.read().then(
    () => "read on",
    (error: Error) => error.name,
  );
  return { status: response.status, first: new TextDecoder().decode(first?.value), rest };
});
await run("chunked-image", async () => {
  // The codex-http backend reads the reply chunk by chunk and frees each read's buffer once read.
  const png = await testImage("png", 120, 90, 7);
  const backend = createCodexHttpBackend({
    baseUrl: base,
    fetch: exact,
    client: {
      version: CODEX_CLI_VERSION,
      osInfo: { os: "Debian", osVersion: "12", arch: "x86_64", terminal: "xterm" },
    },
  });
  const { accessToken } = mintFakeTokens({ accountId: "acct-1" });
  const credentials = {
    get: async () => ({ accessToken, accountId: "acct-1" }),
    recoverFromUnauthorized: async () => ({ accessToken, accountId: "acct-1" }),
  };
  const store = createMemoryImageStore();
  const result = await backend.generateInto({ prompt: "a fox" }, store, {
    account: { label: "w", credentials },
  });
  const bytes = await store.get(result.images[0]?.stored.key ?? "");
  return { images: result.images.length, same: Buffer.from(bytes ?? []).equals(Buffer.from(png)) };
});
await run("tls", async () => {
  const secure = createExactFetch({ ca: readFileSync(caPath) });
  const response = await secure(`${secureBase}/secure`);
  return { status: response.status, text: await response.text() };
});
process.exit(0);

import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { type ApiOptions, type ApiServices, createApi } from "@codex-img/api";
import {
  createDemoBackend,
  createFileImageStore,
  createJobQueue,
  createRunner,
  type ImageBackend,
  type Runner,
  silentLogger,
  systemClock,
} from "@codex-img/core";
import {
  createAccountUsage,
  createAuditLog,
  createDb,
  createKeyStore,
  createLibsqlJobStore,
  createSessionStore,
  createSettingsStore,
  createUsageCounters,
  KEY_SCOPES,
  type KeyLimits,
  type KeyScope,
} from "@codex-img/db";

export interface ServedApi {
  /** `http://127.0.0.1:PORT`: the API over real HTTP. */
  url: string;
  services: ApiServices;
  runner: Runner;
  createKey(scopes?: KeyScope[], limits?: Partial<KeyLimits>): Promise<string>;
  close(): Promise<void>;
}

/**
 * The API on real components (libSQL file, file image store, runner) served on loopback, as
 * packages/api's test harness builds it; copied because test folders do not import each other.
 */
export async function serveApi(
  options: { backend?: ImageBackend; startRunner?: boolean; api?: Partial<ApiOptions> } = {},
): Promise<ServedApi> {
  const dir = await mkdtemp(join(tmpdir(), "codex-img-client-"));
  const database = await createDb({ url: `file:${join(dir, "codex-img.db")}` });
  const images = createFileImageStore({ dir: join(dir, "images") });
  const queue = createJobQueue({ store: createLibsqlJobStore(database), pollIntervalMs: 50 });
  const backend = options.backend ?? createDemoBackend();
  const runner = createRunner({ queue, backend, images, pollIntervalMs: 50, recoverIntervalMs: 0 });
  const keys = createKeyStore(database);
  const server = createServer((req, res) => {
    void respond(app.fetch, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const services: ApiServices = {
    database,
    queue,
    images,
    keys,
    counters: createUsageCounters(database),
    audit: createAuditLog(database),
    settings: createSettingsStore(database),
    sessions: createSessionStore(database),
    accountUsage: createAccountUsage(database),
    backend: backend.kind,
    wakeWorkers: () => runner.wake(),
    clock: systemClock,
    logger: silentLogger,
    options: {
      publicBaseUrl: url,
      requestWaitTimeoutMs: 5_000,
      imageRetentionMs: 7 * 24 * 3_600_000,
      maxBodyBytes: 20 * 1024 * 1024,
      version: "0.0.0-test",
      ...options.api,
    },
  };
  const app = createApi(services);
  if (options.startRunner ?? true) runner.start();
  let counter = 0;
  return {
    url,
    services,
    runner,
    async createKey(scopes = KEY_SCOPES.filter((scope) => scope !== "admin"), limits = {}) {
      const { rawKey } = await keys.create({ name: `client test key ${++counter}`, scopes, limits });
      return rawKey;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await runner.stop({ graceMs: 1_000 });
      database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

type FetchHandler = (request: Request) => Response | Promise<Response>;

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade"]);

/** node:http → fetch handler, streaming both ways (SSE arrives event by event). */
async function respond(handler: FetchHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const hangUp = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) hangUp.abort(new Error("client disconnected"));
  });
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.append(name, item);
      else if (value !== undefined) headers.set(name, value);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(`http://${req.headers.host ?? "127.0.0.1"}${req.url ?? "/"}`, {
      method: req.method ?? "GET",
      headers,
      signal: hangUp.signal,
      ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" } : {}),
    } as RequestInit);
    const response = await handler(request);
    const out: Array<[string, string]> = [];
    response.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name) && name !== "set-cookie") out.push([name, value]);
    });
    for (const cookie of response.headers.getSetCookie()) out.push(["set-cookie", cookie]);
    res.writeHead(response.status, out.flat());
    res.flushHeaders();
    if (!response.body) {
      res.end();
      return;
    }
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!res.write(value)) await new Promise((resolve) => res.once("drain", resolve));
        if (hangUp.signal.aborted) break;
      }
    } finally {
      if (hangUp.signal.aborted) await reader.cancel().catch(() => undefined);
      res.end();
    }
  } catch (error) {
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end(`test server: handler failed: ${String(error)}`);
  }
}

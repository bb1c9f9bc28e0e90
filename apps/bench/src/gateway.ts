/**
 * Gateway overhead: the real server process on loopback against the fake Codex backend, which answers
 * every image call after a fixed delay with a ~2 MB 1024x1024 PNG (noisy pixels, so it does not
 * compress). End-to-end latency of `POST /v1/images/generations` (b64_json) is compared with calling the
 * fake upstream directly with the same client, body and concurrency in the same run; the added latency is
 * the gateway's percentile minus the direct call's. Target at concurrency 8: p50 < 5 ms, p99 < 25 ms.
 * Exits non-zero when the target is missed.
 *
 *   bun run bench:gateway [--delay-ms 200] [--requests 40,160,320] [--concurrency 1,8,32]
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type FakeCodexBackend, startFakeCodexBackend } from "@codex-img/core/testing";
import {
  machineInfo,
  ms,
  noisyPng,
  printTable,
  quantile,
  runClosedLoop,
  sleep,
  startServerAgainst,
  uniquePngBase64,
  waitReady,
} from "./support/bench-kit.js";

const { values } = parseArgs({
  options: {
    "delay-ms": { type: "string", default: "200" },
    requests: { type: "string", default: "40,160,320" },
    concurrency: { type: "string", default: "1,8,32" },
  },
});
const DELAY_MS = Number(values["delay-ms"]);
const LEVELS = (values.concurrency ?? "").split(",").map(Number);
const REQUESTS = (values.requests ?? "").split(",").map(Number);
// Each codex-http account runs DEFAULT_MAX_CONCURRENCY (4) calls at once: 8 homes give 32 slots, and the
// server's workers are raised to match, so concurrency 32 is not throttled by the pool.
const HOMES = 8;
const TARGET = { concurrency: 8, p50: 5, p99: 25 };

interface GatewayLevel {
  concurrency: number;
  requests: number;
  directP50: number;
  directP99: number;
  gatewayP50: number;
  gatewayP99: number;
  addedP50: number;
  addedP99: number;
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "codex-img-bench-gateway-"));
  let upstream: FakeCodexBackend | undefined;
  let server: Awaited<ReturnType<typeof startServerAgainst>> | undefined;
  try {
    const png = await noisyPng(1024, 1024, 2);
    const nextBase64 = uniquePngBase64(png);
    const reply = async (_request: unknown, res: ServerResponse): Promise<void> => {
      await sleep(DELAY_MS);
      // Built by hand: JSON.stringify of a 2.7 MB string would add the fake's own cost to both sides.
      const body = `{"created":${Math.floor(Date.now() / 1000)},"data":[{"b64_json":"${nextBase64()}"}],"output_format":"png","quality":"medium","size":"1024x1024"}`;
      if (res.destroyed) return;
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    upstream = await startFakeCodexBackend({ defaults: { images: { kind: "custom", handle: reply } } });
    server = await startServerAgainst(upstream, {
      dir,
      homes: HOMES,
      args: ["--worker-concurrency", String(HOMES * 4), "--queue-max-size", "1000"],
    });
    await waitReady(server.url);
    const { url, firstKey, homes } = server;
    const body = JSON.stringify({
      model: "gpt-image-1",
      prompt: "a lighthouse at dawn",
      size: "1024x1024",
      n: 1,
    });

    // The same client work on both sides: send, read the whole body, parse it, check one image came back.
    const direct = async (): Promise<void> => {
      const res = await fetch(`${upstream?.baseUrl}/images/generations`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${homes[0]?.accessToken}`,
          originator: "codex_cli_rs",
          "content-type": "application/json",
        },
        body,
      });
      await expectImage(res, "direct");
    };
    const gateway = async (): Promise<void> => {
      const res = await fetch(`${url}/v1/images/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${firstKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "gpt-image-1",
          prompt: "a lighthouse at dawn",
          size: "1024x1024",
          response_format: "b64_json",
        }),
      });
      await expectImage(res, "gateway");
    };

    // Warm-up: JIT, connection pools, SQLite pages, the accounts' first token reads.
    await runClosedLoop(16, 8, direct);
    await runClosedLoop(16, 8, gateway);

    const levels: GatewayLevel[] = [];
    for (const [i, concurrency] of LEVELS.entries()) {
      const requests = REQUESTS[i] ?? REQUESTS.at(-1) ?? 100;
      const d = (await runClosedLoop(requests, concurrency, direct)).sort((a, b) => a - b);
      const g = (await runClosedLoop(requests, concurrency, gateway)).sort((a, b) => a - b);
      const level: GatewayLevel = {
        concurrency,
        requests,
        directP50: ms(quantile(d, 0.5)),
        directP99: ms(quantile(d, 0.99)),
        gatewayP50: ms(quantile(g, 0.5)),
        gatewayP99: ms(quantile(g, 0.99)),
        addedP50: ms(quantile(g, 0.5) - quantile(d, 0.5)),
        addedP99: ms(quantile(g, 0.99) - quantile(d, 0.99)),
      };
      levels.push(level);
      process.stderr.write(`concurrency ${concurrency}: done (${requests} requests each side)\n`);
    }

    const atTarget = levels.find((l) => l.concurrency === TARGET.concurrency);
    const met = atTarget ? atTarget.addedP50 < TARGET.p50 && atTarget.addedP99 < TARGET.p99 : false;
    printTable(
      `gateway overhead (upstream delay ${DELAY_MS} ms, PNG ${(png.length / 2 ** 20).toFixed(2)} MiB)`,
      levels.map((l) => ({
        conc: l.concurrency,
        n: l.requests,
        "direct p50": l.directP50,
        "direct p99": l.directP99,
        "gateway p50": l.gatewayP50,
        "gateway p99": l.gatewayP99,
        "added p50": l.addedP50,
        "added p99": l.addedP99,
        "p50 ratio": (l.gatewayP50 / l.directP50).toFixed(3),
      })),
    );
    process.stderr.write(
      `target at concurrency ${TARGET.concurrency}: added p50 < ${TARGET.p50} ms, p99 < ${TARGET.p99} ms: ${met ? "met" : "MISSED"}\n`,
    );
    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: "gateway",
          machine: await machineInfo(),
          upstreamDelayMs: DELAY_MS,
          pngBytes: png.length,
          accounts: HOMES,
          workerConcurrency: HOMES * 4,
          levels,
          target: TARGET,
          met,
        },
        null,
        2,
      )}\n`,
    );
    return met ? 0 : 1;
  } finally {
    await server?.stop();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function expectImage(res: Response, side: string): Promise<void> {
  const json = (await res.json()) as { data?: Array<{ b64_json?: string }> };
  const length = json.data?.[0]?.b64_json?.length ?? 0;
  if (res.status !== 200 || length < 1_000_000) {
    throw new Error(`${side}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  }
}

process.exitCode = await main();

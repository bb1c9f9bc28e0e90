/**
 * Memory: peak resident set (VmHWM from /proc) of the real server process in two scenarios, each in its
 * own process, against the idle RSS of that same process after start-up (the baseline):
 *   edits  - 50 concurrent `POST /v1/images/edits` (multipart), each with 4 reference PNGs of ~5 MB;
 *            the fake upstream holds each call for a few seconds so all 50 are in the server at once.
 *   queued - 10,000 jobs enqueued by `POST /v1/images/jobs` while the only worker is stuck on a stalled
 *            upstream call, so they all wait in the queue.
 *   flood  - 30 parallel 58 MB JSON edits at once, each one data: URL reference of base64 that decodes
 *            to no image; half with a valid key, half with a key that lacks the `edit` scope (refused
 *            before its body is read). The request budget (`--request-budget-mb`, default 256) admits
 *            what fits, counts the decoded copy of a reference beside its body, and answers the rest
 *            503 server_busy.
 * Synchronous callers honour 503 `Retry-After` (as the OpenAI SDKs do), so every edit completes.
 * Targets: edits < 400 MB, queued < 150 MB, flood < budget + 150 MB. Exits non-zero when a target is
 * missed. Linux only.
 *
 *   bun run bench:memory [--edits 50] [--refs 4] [--ref-mb 5] [--jobs 10000] [--only edits|queued|flood]
 *                        [--edit-workers 52]
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type FakeCodexBackend, type FakeCodexReply, startFakeCodexBackend } from "@codex-img/core/testing";
import { createDb, createKeyStore, type KeyScope } from "@codex-img/db";
import {
  type BenchServer,
  machineInfo,
  noisyPng,
  printTable,
  processCpuMs,
  processMemory,
  runClosedLoop,
  sleep,
  startServerAgainst,
  uniquePngBase64,
  waitReady,
} from "./support/bench-kit.js";

const { values } = parseArgs({
  options: {
    edits: { type: "string", default: "50" },
    // Profiling by elimination: with 1 worker the edits wait in the queue, so the peak is what the
    // request side holds (parsed uploads of waiting synchronous requests) plus one upstream call.
    "edit-workers": { type: "string", default: "52" },
    refs: { type: "string", default: "4" },
    "ref-mb": { type: "string", default: "5" },
    jobs: { type: "string", default: "10000" },
    only: { type: "string" },
    "flood-bodies": { type: "string", default: "30" },
    "flood-mb": { type: "string", default: "58" },
  },
});
const EDITS = Number(values.edits);
const REFS = Number(values.refs);
const REF_MB = Number(values["ref-mb"]);
const JOBS = Number(values.jobs);

interface Scenario {
  scenario: "edits" | "queued" | "flood";
  load: string;
  idleRssMiB: number;
  peakRssMiB: number;
  ratioToIdle: number;
  targetMiB: number;
  met: boolean;
  seconds: number;
  /** CPU the server process used during the scenario (user + system, from /proc), in seconds. */
  serverCpuSeconds: number;
  detail: Record<string, number | string>;
}

/**
 * Samples VmRSS every 50 ms while `work` runs (VmHWM is the authority; the samples show the shape), and
 * the server's CPU over it: memory bought with collections is paid for in CPU, so both are reported.
 */
async function measure(
  pid: number,
  work: () => Promise<Record<string, number | string>>,
): Promise<{
  peakMiB: number;
  sampledMaxMiB: number;
  seconds: number;
  cpuSeconds: number;
  detail: Record<string, number | string>;
}> {
  let sampledMax = 0;
  let running = true;
  const sampler = (async () => {
    while (running) {
      sampledMax = Math.max(sampledMax, (await processMemory(pid)).rssMiB);
      await sleep(50);
    }
  })();
  const start = performance.now();
  const cpuStart = await processCpuMs(pid);
  try {
    const detail = await work();
    return {
      peakMiB: (await processMemory(pid)).hwmMiB,
      sampledMaxMiB: sampledMax,
      seconds: (performance.now() - start) / 1000,
      cpuSeconds: ((await processCpuMs(pid)) - cpuStart) / 1000,
      detail,
    };
  } finally {
    running = false;
    await sampler;
  }
}

async function withServer<T>(
  name: string,
  homesCount: number,
  images: FakeCodexReply,
  args: readonly string[],
  run: (server: BenchServer & { dataDir: string }) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `codex-img-bench-memory-${name}-`));
  let upstream: FakeCodexBackend | undefined;
  let server: BenchServer | undefined;
  try {
    upstream = await startFakeCodexBackend({ defaults: { images, responses: images } });
    server = await startServerAgainst(upstream, { dir, homes: homesCount, args: [...args] });
    await waitReady(server.url);
    return await run(Object.assign(server, { dataDir: join(dir, "data") }));
  } finally {
    // Stalled upstream calls would hold a graceful shutdown; the figures are taken, so do not wait long.
    await server?.stop(3000);
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function idleRss(pid: number): Promise<number> {
  // Let start-up garbage settle before taking the baseline.
  await sleep(1000);
  return (await processMemory(pid)).rssMiB;
}

async function editsScenario(): Promise<Scenario> {
  const side = Math.round(Math.sqrt((REF_MB * 2 ** 20) / 4));
  const refs = await Promise.all(Array.from({ length: REFS }, () => noisyPng(side, side, 4)));
  const result = await noisyPng(1024, 1024, 0);
  const nextBase64 = uniquePngBase64(result);
  let upstreamCalls = 0;
  const hold = async (_request: unknown, res: ServerResponse): Promise<void> => {
    upstreamCalls += 1;
    // Held so the 50 edits overlap inside the server; a small 1024x1024 result (flat pixels).
    await sleep(3000);
    if (res.destroyed) return;
    const body = `{"created":1,"data":[{"b64_json":"${nextBase64()}"}],"output_format":"png","quality":"medium","size":"1024x1024"}`;
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  };
  // 13 accounts x 4 slots and 52 workers: every edit gets its upstream call at once.
  return withServer(
    "edits",
    13,
    { kind: "custom", handle: hold },
    ["--worker-concurrency", String(values["edit-workers"]), "--queue-max-size", "200"],
    async (server) => {
      const idle = await idleRss(server.pid);
      const measured = await measure(server.pid, async () => {
        const statuses = new Map<number, number>();
        await runClosedLoop(EDITS, EDITS, async (i) => {
          const form = new FormData();
          form.set("model", "gpt-image-1");
          form.set("prompt", `edit ${i}: make it dusk`);
          form.set("size", "1024x1024");
          for (const [n, bytes] of refs.entries()) {
            form.append(
              "image[]",
              new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "image/png" }),
              `ref${n}.png`,
            );
          }
          for (;;) {
            const res = await fetch(`${server.url}/v1/images/edits`, {
              method: "POST",
              headers: { authorization: `Bearer ${server.firstKey}` },
              body: form,
            });
            await res.arrayBuffer();
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status !== 503) break;
            await sleep(Number(res.headers.get("retry-after") ?? "1") * 1000);
          }
        });
        return {
          statuses: JSON.stringify(Object.fromEntries(statuses)),
          upstreamCalls,
          refMiB: Math.round((refs.reduce((s, r) => s + r.length, 0) / REFS / 2 ** 20) * 100) / 100,
        };
      });
      const target = 400;
      return {
        scenario: "edits",
        load: `${EDITS} concurrent edits x ${REFS} refs of ${measured.detail.refMiB} MiB`,
        idleRssMiB: round(idle),
        peakRssMiB: round(measured.peakMiB),
        ratioToIdle: round(measured.peakMiB / idle),
        targetMiB: target,
        met: measured.peakMiB < target,
        seconds: round(measured.seconds),
        serverCpuSeconds: round(measured.cpuSeconds),
        detail: { ...measured.detail, sampledMaxRssMiB: round(measured.sampledMaxMiB) },
      };
    },
  );
}

async function queuedScenario(): Promise<Scenario> {
  // One account, one worker, and an upstream that never answers: the first job holds the only worker
  // and everything after it waits in the queue.
  return withServer(
    "queued",
    1,
    { kind: "stall" },
    ["--worker-concurrency", "1", "--queue-max-size", String(JOBS + 100)],
    async (server) => {
      const idle = await idleRss(server.pid);
      const measured = await measure(server.pid, async () => {
        const statuses = new Map<number, number>();
        await runClosedLoop(JOBS, 16, async (i) => {
          const res = await fetch(`${server.url}/v1/images/jobs`, {
            method: "POST",
            headers: { authorization: `Bearer ${server.firstKey}`, "content-type": "application/json" },
            body: JSON.stringify({
              prompt: `queued job ${i}: a watercolor lighthouse on a cliff at dawn, seagulls, soft light`,
              size: "1024x1024",
              quality: "medium",
            }),
          });
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        });
        // Give the process a moment in the loaded state (timers, feeds) before reading the peak.
        await sleep(2000);
        return { statuses: JSON.stringify(Object.fromEntries(statuses)) };
      });
      const target = 150;
      return {
        scenario: "queued",
        load: `${JOBS} queued jobs`,
        idleRssMiB: round(idle),
        peakRssMiB: round(measured.peakMiB),
        ratioToIdle: round(measured.peakMiB / idle),
        targetMiB: target,
        met: measured.peakMiB < target,
        seconds: round(measured.seconds),
        serverCpuSeconds: round(measured.cpuSeconds),
        detail: {
          ...measured.detail,
          sampledMaxRssMiB: round(measured.sampledMaxMiB),
          rssAfterMiB: round((await processMemory(server.pid)).rssMiB),
        },
      };
    },
  );
}

async function floodScenario(): Promise<Scenario> {
  const budgetMiB = 256;
  const bodies = Number(values["flood-bodies"]);
  const size = Number(values["flood-mb"]) * 2 ** 20;
  const head = new TextEncoder().encode('{"prompt":"flood","images":[{"image_url":"data:image/png;base64,');
  const tail = new TextEncoder().encode('"}]}');
  // Valid base64 of zeros: the whole reference is decoded before it is found not to be an image.
  const body = new Uint8Array(size).fill(0x41);
  body.set(head);
  body.set(tail, size - tail.length);
  return withServer(
    "flood",
    1,
    { kind: "stall" },
    ["--request-budget-mb", String(budgetMiB)],
    async (server) => {
      const noEdit = await createKey(server.dataDir, ["generate"]);
      const idle = await idleRss(server.pid);
      const measured = await measure(server.pid, async () => {
        const statuses = new Map<string, number>();
        await runClosedLoop(bodies, bodies, async (i) => {
          const valid = i % 2 === 0;
          const res = await fetch(`${server.url}/v1/images/edits`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${valid ? server.firstKey : noEdit}`,
              "content-type": "application/json",
            },
            body,
          }).catch(() => undefined);
          await res?.arrayBuffer().catch(() => undefined);
          const label = `${valid ? "valid" : "no edit scope"} ${res?.status ?? "cut"}`;
          statuses.set(label, (statuses.get(label) ?? 0) + 1);
        });
        return { statuses: JSON.stringify(Object.fromEntries(statuses)), budgetMiB };
      });
      const target = budgetMiB + 150;
      return {
        scenario: "flood",
        load: `${bodies} parallel bodies of ${values["flood-mb"]} MiB`,
        idleRssMiB: round(idle),
        peakRssMiB: round(measured.peakMiB),
        ratioToIdle: round(measured.peakMiB / idle),
        targetMiB: round(target),
        met: measured.peakMiB < target,
        seconds: round(measured.seconds),
        serverCpuSeconds: round(measured.cpuSeconds),
        detail: { ...measured.detail, sampledMaxRssMiB: round(measured.sampledMaxMiB) },
      };
    },
  );
}

/** A key with `scopes`, created in the server's database file (SQLite lets two processes share it). */
async function createKey(dataDir: string, scopes: KeyScope[]): Promise<string> {
  const database = await createDb({ url: `file:${join(dataDir, "codex-img.db")}`, migrate: false });
  try {
    return (await createKeyStore(database).create({ name: `bench ${scopes.join(" ")}`, scopes })).rawKey;
  } finally {
    database.close();
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function main(): Promise<number> {
  const scenarios: Scenario[] = [];
  if (!values.only || values.only === "edits") scenarios.push(await editsScenario());
  if (!values.only || values.only === "queued") scenarios.push(await queuedScenario());
  if (!values.only || values.only === "flood") scenarios.push(await floodScenario());
  printTable(
    "memory: peak RSS of the server process (VmHWM)",
    scenarios.map((s) => ({
      scenario: s.scenario,
      load: s.load,
      "idle MiB": s.idleRssMiB,
      "peak MiB": s.peakRssMiB,
      "peak/idle": s.ratioToIdle,
      "server CPU s": s.serverCpuSeconds,
      "wall s": s.seconds,
      target: `< ${s.targetMiB}`,
      result: s.met ? "met" : "MISSED",
    })),
  );
  process.stdout.write(
    `${JSON.stringify({ benchmark: "memory", machine: await machineInfo(), scenarios }, null, 2)}\n`,
  );
  return scenarios.every((s) => s.met) ? 0 : 1;
}

process.exitCode = await main();

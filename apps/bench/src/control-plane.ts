/**
 * Control plane: authenticated `GET /v1/images/jobs/{id}` requests per second against the real server
 * process, compared with a bare `Bun.serve` process answering the same JSON as a constant. Both are
 * driven by the same keep-alive load loop (Bun's fetch pools connections) in this process, alternating
 * bare and server rounds so drifting machine load hits both. Target: server >= half the bare server.
 * Each side's CPU per request (its process's utime + stime over the round) is reported beside it: what
 * the server adds per request on its one JavaScript thread, less sensitive to the machine's load.
 * Also counts the database write transactions of a job's whole life (`codex_img_db_write_transactions_total`
 * of `/metrics` around `--jobs` synchronous generations): target at most 3 per job. Exits non-zero when a
 * target is missed.
 *
 *   bun run bench:control-plane [--seconds 5] [--rounds 2] [--connections 32] [--jobs 20]
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type FakeCodexBackend,
  type FakeCodexReply,
  startFakeCodexBackend,
  testPng,
} from "@codex-img/core/testing";
import { createDb, createKeyStore } from "@codex-img/db";
import {
  type BenchServer,
  BUN,
  machineInfo,
  ms,
  printTable,
  processCpuMs,
  quantile,
  runForDuration,
  sleep,
  startServerAgainst,
  waitReady,
  withTimeout,
} from "./support/bench-kit.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "2" },
    connections: { type: "string", default: "32" },
    jobs: { type: "string", default: "20" },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONNECTIONS = Number(values.connections);
const JOBS = Number(values.jobs);
/** Create (with the key's limit counts), claim, finish (with attempts, events and usage). */
const MAX_WRITES_PER_JOB = 3;

interface Round {
  side: "bare" | "server";
  round: number;
  rps: number;
  p50: number;
  p99: number;
  /** CPU (user + system) of that side's server process per request, microseconds. */
  cpuUs: number;
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "codex-img-bench-control-"));
  let upstream: FakeCodexBackend | undefined;
  let server: BenchServer | undefined;
  let bare: ReturnType<typeof spawn> | undefined;
  try {
    // One reply object the fake reads on every call: the write count below gives each job its own image
    // (the server refuses a byte-identical image as a stale result).
    const reply: Extract<FakeCodexReply, { kind: "image" }> = { kind: "image" };
    upstream = await startFakeCodexBackend({ defaults: { images: reply, responses: reply } });
    server = await startServerAgainst(upstream, { dir, homes: 1 });
    await waitReady(server.url);
    const { url, firstKey } = server;
    const auth = { authorization: `Bearer ${firstKey}` };

    // One finished job to read back, as a client polling for its result does.
    const submitted = await fetch(`${url}/v1/images/jobs`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a lighthouse at dawn", size: "1024x1024" }),
    });
    const { id } = (await submitted.json()) as { id: string };
    let view = "";
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${url}/v1/images/jobs/${id}`, { headers: auth });
      view = await res.text();
      if (/"status":"succeeded"/.test(view)) break;
      await sleep(50);
    }
    if (!/"status":"succeeded"/.test(view)) throw new Error(`job did not finish: ${view}`);

    const writesPerJob = await measureWritesPerJob(url, dir, auth, reply);

    // The bare server answers the very bytes the real one does, so only the work in between differs.
    bare = spawn(
      BUN,
      [
        "-e",
        `const body = ${JSON.stringify(view)};
         const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(body, { headers: { "content-type": "application/json" } }) });
         console.log(s.url.href);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const bareUrl = await withTimeout(
      new Promise<string>((done) =>
        bare?.stdout?.once("data", (chunk: Buffer) => done(chunk.toString().trim())),
      ),
      10_000,
      "bare server",
    );
    const bareTarget = `${bareUrl.replace(/\/$/, "")}/v1/images/jobs/${id}`;
    const serverTarget = `${url}/v1/images/jobs/${id}`;
    const hit = (target: string) => async (): Promise<void> => {
      const res = await fetch(target, { headers: auth });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${target}: ${res.status}`);
    };

    // Warm-up of both (JIT, connections).
    await runForDuration(1000, CONNECTIONS, hit(bareTarget));
    await runForDuration(1000, CONNECTIONS, hit(serverTarget));

    const rounds: Round[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of ["bare", "server"] as const) {
        const pid = side === "bare" ? (bare.pid as number) : server.pid;
        const cpuBefore = await processCpuMs(pid);
        const result = await runForDuration(
          SECONDS * 1000,
          CONNECTIONS,
          hit(side === "bare" ? bareTarget : serverTarget),
        );
        const cpu = (await processCpuMs(pid)) - cpuBefore;
        const sorted = result.latencies.sort((a, b) => a - b);
        rounds.push({
          side,
          round,
          rps: Math.round(result.completed / result.seconds),
          p50: ms(quantile(sorted, 0.5)),
          p99: ms(quantile(sorted, 0.99)),
          cpuUs: Math.round((cpu * 1000) / result.completed),
        });
      }
    }
    const mean = (side: string, figure: "rps" | "cpuUs"): number => {
      const of = rounds.filter((r) => r.side === side);
      return Math.round(of.reduce((sum, r) => sum + r[figure], 0) / of.length);
    };
    const bareRps = mean("bare", "rps");
    const serverRps = mean("server", "rps");
    const bareCpuUs = mean("bare", "cpuUs");
    const serverCpuUs = mean("server", "cpuUs");
    const ratio = Math.round((serverRps / bareRps) * 1000) / 1000;
    const writesMet = writesPerJob <= MAX_WRITES_PER_JOB;
    const met = ratio >= 0.5 && writesMet;
    printTable(
      `control plane: GET /v1/images/jobs/{id}, ${CONNECTIONS} connections, ${SECONDS} s per round`,
      rounds.map((r) => ({
        side: r.side,
        round: r.round,
        "req/s": r.rps,
        "p50 ms": r.p50,
        "p99 ms": r.p99,
        "CPU us/req": r.cpuUs,
      })),
    );
    process.stderr.write(
      `server ${serverRps} req/s, bare ${bareRps} req/s, ratio ${ratio} (target >= 0.5): ${ratio >= 0.5 ? "met" : "MISSED"}\n` +
        `server CPU ${serverCpuUs} us per request, bare ${bareCpuUs} us (the server's own work: ${serverCpuUs - bareCpuUs} us)\n` +
        `database write transactions per job: ${writesPerJob} (target <= ${MAX_WRITES_PER_JOB}): ${writesMet ? "met" : "MISSED"}\n`,
    );
    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: "control-plane",
          machine: await machineInfo(),
          connections: CONNECTIONS,
          secondsPerRound: SECONDS,
          bodyBytes: Buffer.byteLength(view),
          rounds,
          bareRps,
          serverRps,
          ratio,
          bareCpuUs,
          serverCpuUs,
          writesPerJob,
          met,
        },
        null,
        2,
      )}\n`,
    );
    return met ? 0 : 1;
  } finally {
    if (bare && bare.exitCode === null) {
      const gone = new Promise((done) => bare?.once("exit", done));
      bare.kill("SIGTERM");
      await withTimeout(gone, 5000, "bare server exit").catch(() => bare?.kill("SIGKILL"));
    }
    await server?.stop();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Write transactions per job, from the server's own counter: `/metrics` needs an admin key, which the
 * server never prints, so one is created in its database file (SQLite lets two processes share it).
 */
async function measureWritesPerJob(
  url: string,
  dir: string,
  auth: { authorization: string },
  reply: Extract<FakeCodexReply, { kind: "image" }>,
): Promise<number> {
  const database = await createDb({ url: `file:${join(dir, "data", "codex-img.db")}`, migrate: false });
  const { rawKey } = await createKeyStore(database)
    .create({ name: "bench metrics", scopes: ["admin"] })
    .finally(() => database.close());
  const writes = async (): Promise<number> => {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${rawKey}` } });
    const text = await res.text();
    const value = /^codex_img_db_write_transactions_total (\d+)$/m.exec(text)?.[1];
    if (value === undefined) throw new Error(`no write counter in /metrics (${res.status})`);
    return Number(value);
  };
  await writes(); // the admin key's first use records its last-used time
  // The generating key's last-used time was written by the earlier requests of this run.
  const before = await writes();
  for (let i = 0; i < JOBS; i++) {
    reply.bytes = await testPng(64, 64);
    const res = await fetch(`${url}/v1/images/generations`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ prompt: `a lighthouse at dawn, take ${i}`, size: "1024x1024" }),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`generation ${i}: ${res.status}`);
  }
  return Math.round((((await writes()) - before) / JOBS) * 100) / 100;
}

process.exitCode = await main();

/**
 * Shared pieces of the process-level benchmarks: starting the real server on loopback, reading its memory
 * from /proc, load loops, percentiles and output. Benchmarks are not tests: every wait here is bounded so
 * a run always ends by itself.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { encodePng } from "@codex-img/core";
import { type CodexHomeFixture, createCodexHome } from "@codex-img/core/testing";

export const REPO_ROOT: string = resolve(import.meta.dirname, "../../../..");
export const BUN: string = join(REPO_ROOT, "node_modules/.bin/bun");
export const SERVER_MAIN: string = join(REPO_ROOT, "apps/server/src/main.ts");

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Rejects after `ms` so a hung step cannot keep a benchmark alive. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, fail) => {
        timer = setTimeout(() => fail(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface BenchServer {
  child: ChildProcess;
  pid: number;
  url: string;
  /** The key printed once on a fresh data folder (empty when the folder already had keys). */
  firstKey: string;
  /** The last 64 KiB the server wrote on stderr. */
  stderr(): string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface BenchServerOptions {
  dataDir: string;
  /** HOME and working folder of the process. */
  cwd: string;
  homes: readonly string[];
  args: readonly string[];
  timeoutMs?: number;
}

/**
 * The real server on the codex-http backend against a fake Codex backend, with `homes` fresh logins in
 * `dir`: the setup every gateway-level benchmark shares.
 */
export async function startServerAgainst(
  upstream: { baseUrl: string; tokenUrl: string },
  options: { dir: string; homes: number; args?: readonly string[]; timeoutMs?: number },
): Promise<BenchServer & { homes: CodexHomeFixture[] }> {
  const homes = await makeHomes(options.dir, options.homes);
  const server = await startBenchServer({
    dataDir: join(options.dir, "data"),
    cwd: options.dir,
    homes: homes.map((h) => h.home),
    args: [
      "--backend",
      "codex-http",
      "--codex-base-url",
      upstream.baseUrl,
      "--refresh-token-url",
      upstream.tokenUrl,
      ...(options.args ?? []),
    ],
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  return Object.assign(server, { homes });
}

/** Starts `apps/server/src/main.ts` under Bun on the sources, as `bun run start` does, and waits for it to listen. */
export function startBenchServer(options: BenchServerOptions): Promise<BenchServer> {
  const child = spawn(
    BUN,
    [
      // e.g. BENCH_SERVER_BUN_FLAGS="--cpu-prof-md --cpu-prof-dir=/tmp/prof" to profile the server under load.
      ...(process.env.BENCH_SERVER_BUN_FLAGS ?? "").split(" ").filter(Boolean),
      "--max-http-header-size=65536",
      "--conditions=source",
      SERVER_MAIN,
      "--port",
      "0",
      "--data-dir",
      options.dataDir,
      ...options.args,
    ],
    {
      cwd: options.cwd,
      env: {
        PATH: process.env.PATH ?? "",
        // As `bun run start`, the Dockerfile and the systemd unit set them (docs/performance.md, "Allocator and heap").
        MIMALLOC_PURGE_DELAY: process.env.MIMALLOC_PURGE_DELAY ?? "500",
        MIMALLOC_PURGE_HOLES_MIN_INTERVAL: process.env.MIMALLOC_PURGE_HOLES_MIN_INTERVAL ?? "10000",
        BUN_JSC_forceRAMSize: process.env.BUN_JSC_forceRAMSize ?? "536870912",
        // e.g. BENCH_SERVER_ENV="BUN_JSC_useFTLJIT=0 MIMALLOC_PURGE_DELAY=100" to try a runtime setting on the
        // server alone (a `BUN_JSC_*` variable in the benchmark's own environment would apply to it too).
        ...benchServerEnv(process.env.BENCH_SERVER_ENV),
        HOME: options.cwd,
        CODEX_HOMES: options.homes.map((home, i) => `acct${i}=${home}`).join(":"),
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((ready, fail) => {
    const timer = setTimeout(() => {
      void stop(0);
      fail(new Error(`server did not start:\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}:\n${stderr}`));
    };
    child.once("exit", onExit);
    let started = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      // Bounded: the server logs every request at the default level and a run makes tens of thousands.
      stderr = (stderr + chunk.toString()).slice(-65_536);
      if (started) return;
      const listening = /listening on (http:\/\/\S+)/.exec(stderr);
      if (!listening?.[1]) return;
      started = true;
      clearTimeout(timer);
      child.off("exit", onExit);
      const key = /shown once, keep it:\s+(cimg_\S+)/.exec(stderr)?.[1];
      const finish = (firstKey: string): void =>
        ready({
          child,
          pid: child.pid ?? 0,
          url: listening[1] as string,
          firstKey,
          stderr: () => stderr,
          stop,
        });
      if (key) return finish(key);
      // The key line may come in the next chunk; give it a moment.
      void sleep(300).then(() => finish(/shown once, keep it:\s+(cimg_\S+)/.exec(stderr)?.[1] ?? ""));
    });
  });
}

/** Polls `/ready` until it answers 200 (bounded). */
export async function waitReady(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const reply = await fetch(`${url}/ready`);
      await reply.arrayBuffer();
      if (reply.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${url}/ready did not answer 200 within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Codex homes with a fresh ChatGPT login each, under `parent`. */
export async function makeHomes(parent: string, count: number): Promise<CodexHomeFixture[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => createCodexHome({ parent, email: `u${i}@x.test` })),
  );
}

/** Resident set (now) and its high-water mark, in MiB, from /proc (Linux only). */
export async function processMemory(pid: number): Promise<{ rssMiB: number; hwmMiB: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMiB: kib("VmRSS") / 1024, hwmMiB: kib("VmHWM") / 1024 };
}

/** Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`; 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time the process has used so far, user + system, in ms, from /proc (Linux only). */
/**
 * CPU (user + system, ms) of each live thread of `pid`, summed by thread name with its trailing digits
 * dropped: on Bun `bun` is the JavaScript thread, `Bun Pool #` the file-system pool, `JITWorker` the JIT
 * compiler, `HeapHelper` the garbage collector's helpers. Where a process's CPU goes, without a profiler.
 */
export async function threadCpuMs(pid: number): Promise<Map<string, number>> {
  const byName = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    // A thread may end between the listing and the read.
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, "utf8").catch(() => undefined);
    if (!stat) continue;
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\s*\d+$/, "");
    byName.set(name, (byName.get(name) ?? 0) + cpuMsOfStat(stat));
  }
  return byName;
}

export async function processCpuMs(pid: number): Promise<number> {
  return cpuMsOfStat(await readFile(`/proc/${pid}/stat`, "utf8"));
}

/**
 * The process's CPU so far (utime + stime, ms) and its minor page faults, from one read of its stat line.
 * A minor fault is a fresh page of memory touched (a buffer the allocator had given back, or never had);
 * on a virtual machine each costs microseconds of the process's CPU.
 */
export async function processCounters(pid: number): Promise<{ cpuMs: number; minorFaults: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  return { cpuMs: cpuMsOfStat(stat), minorFaults: Number(statFields(stat)[7]) };
}

/** The fields of a `/proc/…/stat` line after the command name (which may hold spaces), from `state` on. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** utime + stime of a `/proc/…/stat` line, in ms. */
function cpuMsOfStat(stat: string): number {
  const fields = statFields(stat);
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** A free loopback port (there is a small race until the caller binds it, fine for a benchmark). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/** Value at quantile `q` (0..1) of already sorted numbers, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(values: readonly number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** Runs `total` calls of `call` with at most `concurrency` in flight; returns each call's milliseconds. */
export async function runClosedLoop(
  total: number,
  concurrency: number,
  call: (index: number) => Promise<void>,
): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const index = next++;
      const start = performance.now();
      await call(index);
      times.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return times;
}

/** Keeps `concurrency` callers busy for `durationMs`; returns completed calls and their latencies. */
export async function runForDuration(
  durationMs: number,
  concurrency: number,
  call: () => Promise<void>,
): Promise<{ completed: number; seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t = performance.now();
      await call();
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { completed: latencies.length, seconds: (performance.now() - start) / 1000, latencies };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A PNG whose pixels are random in `noisyChannels` of RGBA (the rest fixed), so deflate cannot shrink it:
 * 1024x1024 with 2 noisy channels is about 2 MB, like a real generated image.
 */
export async function noisyPng(width: number, height: number, noisyChannels: number): Promise<Uint8Array> {
  const rgba = new Uint8Array(width * height * 4).fill(255);
  const noise = new Uint8Array(65_536);
  let filled = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    if (filled % noise.length === 0) crypto.getRandomValues(noise);
    for (let c = 0; c < noisyChannels; c++) rgba[i + c] = noise[filled++ % noise.length] as number;
  }
  return encodePng({ width, height, rgba });
}

/**
 * Distinct base64 copies of one PNG without re-encoding it: a 33-byte `tEXt` chunk with a counter goes
 * after IHDR (the server rightly rejects a byte-identical image for a second job as stale). The signature
 * with IHDR is 33 bytes and the chunk too, so the three parts' base64 concatenate without re-encoding.
 */
export function uniquePngBase64(png: Uint8Array): () => string {
  const parts = uniquePngBase64Parts(png);
  return () => parts.head + parts.next() + parts.tail;
}

/**
 * `uniquePngBase64` in its three parts: the head and the tail are the same for every copy, `next()` gives
 * the next copy's 44 characters that go between them.
 */
export function uniquePngBase64Parts(png: Uint8Array): { head: string; tail: string; next(): string } {
  let counter = 0;
  return {
    head: Buffer.from(png.subarray(0, 33)).toString("base64"),
    tail: Buffer.from(png.subarray(33)).toString("base64"),
    next() {
      counter += 1;
      const chunk = new Uint8Array(33);
      const view = new DataView(chunk.buffer);
      view.setUint32(0, 21);
      const typeAndData = new TextEncoder().encode(`tEXtn\0${String(counter).padStart(15, "0")}`);
      chunk.set(typeAndData, 4);
      view.setUint32(29, crc32(typeAndData));
      return Buffer.from(chunk).toString("base64");
    },
  };
}

/** Milliseconds with two decimals, for tables and JSON. */
export function ms(value: number): number {
  return Math.round(value * 100) / 100;
}

/** A short aligned table on stderr (stdout carries the JSON). */
export function printTable(title: string, rows: ReadonlyArray<Record<string, string | number>>): void {
  const first = rows[0];
  if (!first) return;
  const columns = Object.keys(first);
  const width = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? "").length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(width[i] ?? 0)).join("  ");
  process.stderr.write(`\n${title}\n${line(columns)}\n`);
  for (const row of rows) process.stderr.write(`${line(columns.map((c) => String(row[c] ?? "")))}\n`);
}

/** Machine facts printed with every result, so a figure is never quoted without its context. */
export async function machineInfo(): Promise<Record<string, string | number>> {
  const { cpus, totalmem, loadavg } = await import("node:os");
  return {
    cpu: cpus()[0]?.model ?? "?",
    cpus: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    bun: process.versions.bun ?? "-",
    loadavg1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** `NAME=value` pairs separated by spaces, as an environment. */
function benchServerEnv(pairs: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of (pairs ?? "").split(" ")) {
    const equals = pair.indexOf("=");
    if (equals > 0) env[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return env;
}

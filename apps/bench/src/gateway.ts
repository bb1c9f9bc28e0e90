/**
 * Gateway overhead against the floor: the real server process on loopback (codex-http against the fake
 * Codex backend in its own process, `support/fake-upstream.ts`, which answers every image call after a
 * fixed delay with a noisy PNG that does not compress) and a pass-through proxy of a few dozen lines in
 * its own process (`support/pass-through.ts`), driven by the same client in the same run, alternating,
 * three rounds, each figure the median of the rounds; the fake upstream called directly is the latency
 * baseline. Per image size (0.5, 1.5 and 8 MB) and concurrency (8, 32): latency added over direct,
 * images/s, CPU per image of the process (utime + stime / images), its minor page faults per image
 * (fresh memory touched, which costs CPU on a virtual machine) and its peak RSS. Targets, each a ratio to
 * the floor in the same run, at 1.5 MB; the command exits non-zero when one is missed:
 *   1. CPU per image at concurrency 8: server <= 3 x pass-through + 5 ms.
 *   2. Images/s at concurrency 32: server >= 0.6 x pass-through.
 *   3. Added latency at concurrency 8: p50 <= 2 x pass-through's + 5 ms; p99 <= 3 x + 10 ms.
 *   4. Peak RSS of the server after concurrency 32: under 200 MB.
 *
 *   bun run bench:gateway [--delay-ms 200] [--rounds 3] [--requests 128] [--concurrency 8,32]
 *                         [--sizes 0.5,1.5,8] [--warmup 192]
 * A target whose size and concurrency did not run counts as missed; `--concurrency 1,8 --sizes 1.5` is the
 * quick look at the wait (concurrency 1: latency with no queueing) against the queueing on CPU (8).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import {
  BUN,
  machineInfo,
  median,
  ms,
  printTable,
  processCounters,
  processMemory,
  quantile,
  runClosedLoop,
  startServerAgainst,
  threadCpuMs,
  waitReady,
} from "./support/bench-kit.js";

const { values } = parseArgs({
  options: {
    "delay-ms": { type: "string", default: "200" },
    rounds: { type: "string", default: "3" },
    requests: { type: "string", default: "128" },
    concurrency: { type: "string", default: "8,32" },
    sizes: { type: "string", default: "0.5,1.5,8" },
    warmup: { type: "string", default: "192" },
  },
});
const DELAY_MS = Number(values["delay-ms"]);
const ROUNDS = Number(values.rounds);
// Requests per side and round at every concurrency: a p99 needs some hundred samples to be more than the
// slowest one (with 32, the p99 of a side was its maximum, and the floor's came out anywhere from −12 to
// 60 ms over direct from run to run).
const REQUESTS = Number(values.requests);
const LEVELS = (values.concurrency ?? "").split(",").map(Number);
const WARMUP = Number(values.warmup);
// Width, height and noisy channels of each image: about 0.5, 1.5 and 8 MB. The 8 MB size runs last, so
// the server's peak RSS read after 1.5 MB at concurrency 32 is that level's.
const ALL_SIZES = [
  { label: "0.5 MB", width: 512, height: 512, channels: 2 },
  { label: "1.5 MB", width: 800, height: 800, channels: 2 },
  { label: "8 MB", width: 1800, height: 1800, channels: 2 },
];
const SIZES = ALL_SIZES.filter((size) =>
  (values.sizes ?? "").split(",").some((wanted) => size.label === `${wanted} MB`),
);
const TARGET_SIZE = "1.5 MB";
// 8 Codex homes of 4 slots each and 32 workers: concurrency 32 is not throttled by the pool.
const HOMES = 8;

type Side = "direct" | "pass" | "server";
interface Sample {
  p50: number;
  p99: number;
  imagesPerSecond: number;
  cpuMsPerImage: number;
  /** Minor page faults of the process per image: fresh memory touched (0 for the direct side). */
  faultsPerImage: number;
}
interface LevelResult {
  size: string;
  imageBytes: number;
  concurrency: number;
  requests: number;
  direct: Sample;
  pass: Sample;
  server: Sample;
  passAddedP50: number;
  passAddedP99: number;
  serverAddedP50: number;
  serverAddedP99: number;
  serverPeakRssMiB?: number;
  passPeakRssMiB?: number;
  /** The server's CPU per image by thread (median of the rounds): where its CPU goes. */
  serverThreadsCpuMsPerImage: Record<string, number>;
}

async function startPassThrough(
  upstream: string,
  token: string,
): Promise<{ url: string; pid: number; stop(): void }> {
  const child = spawn(BUN, [join(import.meta.dirname, "support/pass-through.ts"), upstream, token], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout?.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once("exit", (code) => reject(new Error(`pass-through exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid ?? 0, stop: () => child.kill("SIGKILL") };
}

/** The fake upstream in its own process (`support/fake-upstream.ts`), and the image it answers with. */
async function startFakeUpstream(delayMs: number): Promise<{
  baseUrl: string;
  tokenUrl: string;
  pid: number;
  useImage(size: { width: number; height: number; channels: number }): Promise<{
    imageBytes: number;
    base64Length: number;
  }>;
  stop(): void;
}> {
  const child = spawn(
    BUN,
    ["--conditions=source", join(import.meta.dirname, "support/fake-upstream.ts"), String(delayMs)],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async <T>(): Promise<T> => {
    const { value, done } = await lines.next();
    if (done) throw new Error("the fake upstream exited");
    return JSON.parse(value) as T;
  };
  const { baseUrl, tokenUrl } = await nextLine<{ baseUrl: string; tokenUrl: string }>();
  return {
    baseUrl,
    tokenUrl,
    pid: child.pid ?? 0,
    useImage: async (size) => {
      child.stdin.write(`${JSON.stringify(size)}\n`);
      return nextLine();
    },
    stop: () => child.kill("SIGKILL"),
  };
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "codex-img-bench-gateway-"));
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>> | undefined;
  let server: Awaited<ReturnType<typeof startServerAgainst>> | undefined;
  let pass: Awaited<ReturnType<typeof startPassThrough>> | undefined;
  try {
    upstream = await startFakeUpstream(DELAY_MS);
    server = await startServerAgainst(upstream, {
      dir,
      homes: HOMES,
      args: ["--worker-concurrency", String(HOMES * 4), "--queue-max-size", "1000"],
    });
    await waitReady(server.url);
    const token = server.homes[0]?.accessToken ?? "";
    pass = await startPassThrough(upstream.baseUrl, token);
    const request = JSON.stringify({
      model: "gpt-image-1",
      prompt: "a lighthouse at dawn",
      size: "1024x1024",
    });
    let minBase64 = 0;
    const call = (url: string, key: string) => async (): Promise<void> => {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
          originator: "codex_cli_rs",
        },
        body: request,
      });
      const json = (await res.json()) as { data?: Array<{ b64_json?: string }> };
      const length = json.data?.[0]?.b64_json?.length ?? 0;
      if (res.status !== 200 || length < minBase64) {
        throw new Error(`${url}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
      }
    };
    const sides: Record<Side, { run: () => Promise<void>; pid?: number }> = {
      direct: { run: call(`${upstream.baseUrl}/images/generations`, token) },
      pass: { run: call(`${pass.url}/v1/images/generations`, "unused"), pid: pass.pid },
      server: { run: call(`${server.url}/v1/images/generations`, server.firstKey), pid: server.pid },
    };

    const results: LevelResult[] = [];
    for (const size of SIZES) {
      const image = await upstream.useImage(size);
      minBase64 = image.base64Length;
      // Warm-up: the server's CPU per image falls by half over its first ~200 images as the JIT compiles
      // its hot paths (docs/performance.md), and a service runs for days, so each side first takes
      // `--warmup` requests; every later size takes 16 (connection pools, buffers of that size).
      const warmup = size === SIZES[0] ? WARMUP : 16;
      for (const side of Object.values(sides)) await runClosedLoop(warmup, 8, side.run);
      for (const concurrency of LEVELS) {
        const requests = REQUESTS;
        const rounds: Record<Side, Sample[]> = { direct: [], pass: [], server: [] };
        const serverThreads: Array<Map<string, number>> = [];
        for (let round = 0; round < ROUNDS; round++) {
          for (const name of ["direct", "pass", "server"] as const) {
            const side = sides[name];
            const countersBefore = side.pid ? await processCounters(side.pid) : undefined;
            const threadsBefore = name === "server" ? await threadCpuMs(server.pid) : undefined;
            const started = performance.now();
            const times = (await runClosedLoop(requests, concurrency, side.run)).sort((a, b) => a - b);
            const seconds = (performance.now() - started) / 1000;
            const countersAfter = side.pid ? await processCounters(side.pid) : undefined;
            const cpu = countersBefore && countersAfter ? countersAfter.cpuMs - countersBefore.cpuMs : 0;
            const faults =
              countersBefore && countersAfter ? countersAfter.minorFaults - countersBefore.minorFaults : 0;
            if (threadsBefore) {
              const after = await threadCpuMs(server.pid);
              serverThreads.push(
                new Map(
                  [...after].map(([thread, ms]) => [
                    thread,
                    (ms - (threadsBefore.get(thread) ?? 0)) / requests,
                  ]),
                ),
              );
            }
            rounds[name].push({
              p50: quantile(times, 0.5),
              p99: quantile(times, 0.99),
              imagesPerSecond: requests / seconds,
              cpuMsPerImage: cpu / requests,
              faultsPerImage: faults / requests,
            });
          }
        }
        const summary = (name: Side): Sample => ({
          p50: ms(median(rounds[name].map((s) => s.p50))),
          p99: ms(median(rounds[name].map((s) => s.p99))),
          imagesPerSecond: ms(median(rounds[name].map((s) => s.imagesPerSecond))),
          cpuMsPerImage: ms(median(rounds[name].map((s) => s.cpuMsPerImage))),
          faultsPerImage: Math.round(median(rounds[name].map((s) => s.faultsPerImage))),
        });
        const direct = summary("direct");
        const passSample = summary("pass");
        const serverSample = summary("server");
        const level: LevelResult = {
          size: size.label,
          imageBytes: image.imageBytes,
          concurrency,
          requests,
          direct,
          pass: passSample,
          server: serverSample,
          passAddedP50: ms(passSample.p50 - direct.p50),
          passAddedP99: ms(passSample.p99 - direct.p99),
          serverAddedP50: ms(serverSample.p50 - direct.p50),
          serverAddedP99: ms(serverSample.p99 - direct.p99),
          serverThreadsCpuMsPerImage: Object.fromEntries(
            [...new Set(serverThreads.flatMap((round) => [...round.keys()]))]
              .map(
                (thread) =>
                  [thread, ms(median(serverThreads.map((round) => round.get(thread) ?? 0)))] as const,
              )
              .filter(([, perImage]) => perImage >= 0.05)
              .sort((a, b) => b[1] - a[1]),
          ),
        };
        if (size.label === TARGET_SIZE && concurrency === 32) {
          level.serverPeakRssMiB = ms((await processMemory(server.pid)).hwmMiB);
          level.passPeakRssMiB = ms((await processMemory(pass.pid)).hwmMiB);
        }
        results.push(level);
        process.stderr.write(`${size.label} concurrency ${concurrency}: done\n`);
      }
    }

    const at = (concurrency: number): LevelResult | undefined =>
      results.find((l) => l.size === TARGET_SIZE && l.concurrency === concurrency);
    const c8 = at(8);
    const c32 = at(32);
    const targets = {
      cpuPerImage: {
        server: c8?.server.cpuMsPerImage,
        limit: c8 ? ms(3 * c8.pass.cpuMsPerImage + 5) : undefined,
        met: c8 ? c8.server.cpuMsPerImage <= 3 * c8.pass.cpuMsPerImage + 5 : false,
      },
      imagesPerSecondAt32: {
        ratio: c32 ? Number((c32.server.imagesPerSecond / c32.pass.imagesPerSecond).toFixed(3)) : undefined,
        limit: 0.6,
        met: c32 ? c32.server.imagesPerSecond >= 0.6 * c32.pass.imagesPerSecond : false,
      },
      addedLatencyAt8: {
        p50: c8?.serverAddedP50,
        p50Limit: c8 ? ms(2 * Math.max(0, c8.passAddedP50) + 5) : undefined,
        p99: c8?.serverAddedP99,
        p99Limit: c8 ? ms(3 * Math.max(0, c8.passAddedP99) + 10) : undefined,
        met: c8
          ? c8.serverAddedP50 <= 2 * Math.max(0, c8.passAddedP50) + 5 &&
            c8.serverAddedP99 <= 3 * Math.max(0, c8.passAddedP99) + 10
          : false,
      },
      peakRssAt32: {
        serverMiB: c32?.serverPeakRssMiB,
        passMiB: c32?.passPeakRssMiB,
        limitMB: 200,
        met: (c32?.serverPeakRssMiB ?? Infinity) * 1.048576 < 200,
      },
    };
    const met = Object.values(targets).every((t) => t.met);
    printTable(
      `gateway vs pass-through (upstream delay ${DELAY_MS} ms, ${ROUNDS} rounds, medians)`,
      results.map((l) => ({
        size: l.size,
        conc: l.concurrency,
        "direct p50": l.direct.p50,
        "pass +p50/+p99": `${l.passAddedP50} / ${l.passAddedP99}`,
        "server +p50/+p99": `${l.serverAddedP50} / ${l.serverAddedP99}`,
        "img/s pass": l.pass.imagesPerSecond,
        "img/s server": l.server.imagesPerSecond,
        "cpu ms/img pass": l.pass.cpuMsPerImage,
        "cpu ms/img server": l.server.cpuMsPerImage,
        "faults/img pass / server": `${l.pass.faultsPerImage} / ${l.server.faultsPerImage}`,
      })),
    );
    if (c8)
      process.stderr.write(
        `server CPU per image by thread, 1.5 MB at 8: ${JSON.stringify(c8.serverThreadsCpuMsPerImage)}\n`,
      );
    for (const [name, target] of Object.entries(targets)) {
      process.stderr.write(`${name}: ${JSON.stringify(target)}\n`);
    }
    process.stderr.write(`targets: ${met ? "met" : "MISSED"}\n`);
    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: "gateway",
          machine: await machineInfo(),
          upstreamDelayMs: DELAY_MS,
          rounds: ROUNDS,
          accounts: HOMES,
          workerConcurrency: HOMES * 4,
          levels: results,
          targets,
          met,
        },
        null,
        2,
      )}\n`,
    );
    return met ? 0 : 1;
  } finally {
    pass?.stop();
    await server?.stop();
    upstream?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();

/**
 * Cold start to ready: time from spawning the server process (Bun on the sources, as `bun run start`)
 * to its first 200 from `/ready`, polled every 5 ms. One run on a fresh data folder (migrations and the
 * first key), then the median of `--runs` restarts on that folder. Baseline: spawning `bun -e 0` until
 * it exits (the runtime's own start-up). Target: median restart under 1 s. Exits non-zero when missed.
 * There is no dashboard build in the repository yet, so nothing of it is served or loaded.
 *
 *   bun run bench:cold-start [--runs 7]
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type FakeCodexBackend, startFakeCodexBackend } from "@codex-img/core/testing";
import {
  BUN,
  freePort,
  machineInfo,
  makeHomes,
  median,
  ms,
  printTable,
  SERVER_MAIN,
  sleep,
  withTimeout,
} from "./support/bench-kit.js";

const { values } = parseArgs({ options: { runs: { type: "string", default: "7" } } });
const RUNS = Number(values.runs);
const TARGET_MS = 1000;

/** Spawns, polls `/ready` until 200, stops the process; the milliseconds from spawn to that 200. */
async function timeToReady(
  dir: string,
  dataDir: string,
  homes: string[],
  upstream: FakeCodexBackend,
): Promise<number> {
  const port = await freePort();
  const start = performance.now();
  const child = spawn(
    BUN,
    [
      "--conditions=source",
      SERVER_MAIN,
      "--port",
      String(port),
      "--data-dir",
      dataDir,
      "--backend",
      "codex-http",
      "--codex-base-url",
      upstream.baseUrl,
      "--refresh-token-url",
      upstream.tokenUrl,
    ],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        CODEX_HOMES: homes.map((home, i) => `acct${i}=${home}`).join(":"),
      },
      stdio: ["ignore", "ignore", "ignore"],
    },
  );
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  try {
    const deadline = start + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/ready`);
        await res.arrayBuffer();
        if (res.status === 200) return performance.now() - start;
      } catch {
        // Not listening yet.
      }
      if (performance.now() > deadline) throw new Error("not ready within 20 s");
      await sleep(5);
    }
  } finally {
    child.kill("SIGTERM");
    await withTimeout(exited, 10_000, "server exit").catch(() => child.kill("SIGKILL"));
  }
}

async function runtimeAlone(): Promise<number> {
  const start = performance.now();
  const child = spawn(BUN, ["-e", "0"], { stdio: "ignore" });
  await withTimeout(new Promise((done) => child.once("exit", done)), 10_000, "bun -e 0");
  return performance.now() - start;
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "codex-img-bench-cold-"));
  let upstream: FakeCodexBackend | undefined;
  try {
    upstream = await startFakeCodexBackend();
    const homes = (await makeHomes(dir, 1)).map((h) => h.home);
    const dataDir = join(dir, "data");
    const fresh = await timeToReady(dir, dataDir, homes, upstream);
    const restarts: number[] = [];
    const baseline: number[] = [];
    // Alternating, so drifting machine load hits both series alike.
    for (let i = 0; i < RUNS; i++) {
      baseline.push(await runtimeAlone());
      restarts.push(await timeToReady(dir, dataDir, homes, upstream));
    }
    const restartMedian = median(restarts);
    const baselineMedian = median(baseline);
    const met = restartMedian < TARGET_MS;
    printTable("cold start to ready (ms)", [
      { series: "fresh data folder (1 run)", median: ms(fresh), min: ms(fresh), max: ms(fresh) },
      {
        series: `restart (${RUNS} runs)`,
        median: ms(restartMedian),
        min: ms(Math.min(...restarts)),
        max: ms(Math.max(...restarts)),
      },
      {
        series: `baseline bun -e 0 (${RUNS} runs)`,
        median: ms(baselineMedian),
        min: ms(Math.min(...baseline)),
        max: ms(Math.max(...baseline)),
      },
    ]);
    process.stderr.write(
      `restart median ${ms(restartMedian)} ms = ${(restartMedian / baselineMedian).toFixed(1)}x the runtime alone; target < ${TARGET_MS} ms: ${met ? "met" : "MISSED"}\n`,
    );
    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: "cold-start",
          machine: await machineInfo(),
          freshMs: ms(fresh),
          restartsMs: restarts.map(ms),
          restartMedianMs: ms(restartMedian),
          baselineMs: baseline.map(ms),
          baselineMedianMs: ms(baselineMedian),
          ratio: Math.round((restartMedian / baselineMedian) * 100) / 100,
          targetMs: TARGET_MS,
          met,
        },
        null,
        2,
      )}\n`,
    );
    return met ? 0 : 1;
  } finally {
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();

/**
 * Runs the four process-level benchmarks in sequence (gateway, control plane, memory, cold start), each
 * in its own Bun process so one's memory and JIT state cannot colour the next. Their JSON goes to stdout
 * as one array and their tables to stderr. Exits non-zero when any of them missed its target.
 *
 *   bun run bench
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { BUN, REPO_ROOT } from "./support/bench-kit.js";

const BENCHMARKS = ["gateway", "control-plane", "memory", "cold-start"];

/** One benchmark's exit code and the JSON it printed (undefined when it printed none). */
function runOne(name: string): Promise<{ code: number; json: unknown }> {
  return new Promise((done) => {
    const child = spawn(BUN, ["--conditions=source", join(REPO_ROOT, "apps/bench/src", `${name}.ts`)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    // Each benchmark bounds itself; this is the backstop so `bench` always ends.
    const timer = setTimeout(() => child.kill("SIGKILL"), 10 * 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(out);
      } catch {
        json = undefined;
      }
      done({ code: code ?? 1, json });
    });
  });
}

const results: unknown[] = [];
let failed = 0;
for (const name of BENCHMARKS) {
  process.stderr.write(`\n=== ${name} ===\n`);
  const { code, json } = await runOne(name);
  if (code !== 0) failed += 1;
  results.push(json ?? { benchmark: name, error: `exit ${code}` });
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
process.exitCode = failed > 0 ? 1 : 0;

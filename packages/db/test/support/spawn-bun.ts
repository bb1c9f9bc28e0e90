import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Bun from the root devDependencies: it runs the TypeScript children directly, under Node-run Vitest. */
export const BUN = fileURLToPath(new URL("../../../../node_modules/.bin/bun", import.meta.url));

export interface BunChild {
  process: ChildProcessWithoutNullStreams;
  /** Everything printed so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the first stdout line that `match` accepts. */
  line(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `support/<script>` with Bun and the `source` condition, so workspace packages load from `src/`. */
export function spawnBun(script: string, args: string[]): BunChild {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(BUN, ["--conditions=source", path, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      for (const listener of listeners) listener();
      resolve({ code, signal });
    }),
  );
  return {
    process: child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    line(match, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = stdout.split("\n").find((l) => match(l));
          if (found !== undefined) {
            done();
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`${script} exited before the line: ${stderr || stdout}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${script}: no such line within ${timeoutMs} ms: ${stderr || stdout}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

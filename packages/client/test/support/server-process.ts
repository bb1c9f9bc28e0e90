import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, startServerProcess as startRealServer } from "@codex-img/server/testing";

export const ROOT = REPO_ROOT;
export const BUN = join(ROOT, "node_modules/.bin/bun");

export interface ServerProcess {
  url: string;
  /** The first key, printed once on the server's first start (all scopes but admin). */
  key: string;
  dir: string;
  stderr(): string;
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** Extra flags (`--codex-base-url`, …). */
  args?: string[];
  env?: Record<string, string>;
}

/** The real server process on loopback (apps/server's test support), in a temp folder of its own. */
export async function startServerProcess(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), "codex-img-cli-server-"));
  const server = await startRealServer({
    args: ["--port", "0", "--data-dir", join(dir, "data"), ...(options.args ?? [])],
    env: { HOME: dir, ...options.env },
    cwd: dir,
  });
  return {
    url: server.url.replace(/\/+$/, ""),
    key: server.firstKey,
    dir,
    stderr: server.stderr,
    async stop() {
      if (server.child.exitCode === null) {
        const exited = new Promise((done) => server.child.once("exit", done));
        server.child.kill("SIGKILL");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI from source as a real process with only the environment given (plus PATH), so nothing of
 * the developer's own HOME, keys or config leaks in.
 */
export function runCliProcess(
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs?: number },
): Promise<CliRun> {
  return runProcess(BUN, ["--conditions=source", join(ROOT, "packages/client/src/cli/main.ts"), ...args], {
    ...options,
    env: { PATH: process.env.PATH ?? "", ...options.env },
  });
}

/** Runs a program with exactly the environment given and collects its output and exit code. */
export function runProcess(
  file: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs?: number },
): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`${file} ${args.join(" ")} did not finish:\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      done({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** A loopback URL where nothing listens (a port just freed), for "server down" cases. */
export async function closedPortUrl(): Promise<string> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

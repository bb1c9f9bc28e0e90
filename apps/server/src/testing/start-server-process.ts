import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";

/** The repository root (this file lives in apps/server/src/testing or apps/server/dist/testing). */
export const REPO_ROOT: string = resolve(import.meta.dirname, "../../../..");

/** The flags that point a server at a fake Codex backend (`startFakeCodexBackend()`) and its token endpoint. */
export function fakeUpstreamArgs(upstream: { baseUrl: string; tokenUrl: string }): string[] {
  return ["--codex-base-url", upstream.baseUrl, "--refresh-token-url", upstream.tokenUrl];
}

export interface ServerProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT` as the server printed it. */
  url: string;
  /** The key printed once on a fresh data folder. */
  firstKey: string;
  /** Everything the server wrote on stderr so far. */
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts the real server process (default: Bun on the sources, as the README's start command does) and
 * resolves once it prints where it listens and its first key.
 */
export function startServerProcess(options: {
  args: readonly string[];
  env: Record<string, string>;
  cwd: string;
  command?: [string, string[]];
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const [file, base] = options.command ?? [
    join(REPO_ROOT, "node_modules/.bin/bun"),
    ["--max-http-header-size=65536", "--conditions=source", join(REPO_ROOT, "apps/server/src/main.ts")],
  ];
  const child = spawn(file, [...base, ...options.args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  return new Promise((ready, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`server did not start:\n${stderr}`)),
      options.timeoutMs ?? 30_000,
    );
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const listening = /listening on (http:\/\/\S+)/.exec(stderr);
      const key = /shown once, keep it:\s+(cimg_\S+)/.exec(stderr);
      if (listening?.[1] && key?.[1]) {
        clearTimeout(timer);
        ready({
          child,
          url: listening[1],
          firstKey: key[1],
          stderr: () => stderr,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done(child.exitCode);
              child.once("exit", (code) => done(code));
              child.kill("SIGTERM");
            }),
        });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}:\n${stderr}`));
    });
  });
}

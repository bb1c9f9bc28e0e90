import { join } from "node:path";
import type {
  CodexHomeFixture,
  CreateCodexHomeOptions,
  FakeCodexBackend,
  FakeCodexBackendOptions,
} from "@codex-img/core/testing";
import { fakeUpstreamArgs, type ServerProcess, startServerProcess } from "./start-server-process.js";
import { startUpstreamWithLogins } from "./start-upstream-with-logins.js";

export interface ServerWithLogin {
  /** The temporary folder that holds the server's HOME and data folder. */
  dir: string;
  upstream: FakeCodexBackend;
  login: CodexHomeFixture;
  server: ServerProcess;
  /** Kills the server if it still runs, closes the fake and removes the folders. */
  close(): Promise<void>;
}

/**
 * The whole path as a user runs it: a fresh data folder, one Codex login (`CODEX_HOMES=main=…`) and a
 * real server process pointed at a loopback fake of the Codex backend. `beforeStart` scripts the fake
 * before the server first talks to it.
 */
export async function startServerWithLogin(
  options: {
    prefix?: string;
    upstream?: FakeCodexBackendOptions;
    login?: CreateCodexHomeOptions;
    env?: Record<string, string>;
    beforeStart?: (upstream: FakeCodexBackend) => void;
  } = {},
): Promise<ServerWithLogin> {
  const base = await startUpstreamWithLogins({
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.upstream === undefined ? {} : { upstream: options.upstream }),
    logins: [options.login ?? { email: "owner@example.com", plan: "plus" }],
  });
  const { dir, upstream } = base;
  const login = base.logins[0] as CodexHomeFixture;
  const close = async (): Promise<void> => {
    if (server?.child.exitCode === null) server.child.kill("SIGKILL");
    await base.close();
  };
  let server: ServerProcess | undefined;
  try {
    options.beforeStart?.(upstream);
    server = await startServerProcess({
      args: ["--port", "0", "--data-dir", join(dir, "data"), ...fakeUpstreamArgs(upstream)],
      env: { HOME: dir, CODEX_HOMES: `main=${login.home}`, ...options.env },
      cwd: dir,
    });
  } catch (error) {
    await close();
    throw error;
  }
  return { dir, upstream, login, server, close };
}

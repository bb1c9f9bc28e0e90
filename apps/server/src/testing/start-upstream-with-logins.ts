import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CodexHomeFixture,
  type CreateCodexHomeOptions,
  createCodexHome,
  type FakeCodexBackend,
  type FakeCodexBackendOptions,
  startFakeCodexBackend,
} from "@codex-img/core/testing";

export interface UpstreamWithLogins {
  /** A fresh temporary folder: the processes' HOME, the parent of their data folder. */
  dir: string;
  upstream: FakeCodexBackend;
  /** One Codex login per entry of `logins`, in order. */
  logins: CodexHomeFixture[];
  /** Closes the fake and removes the logins and the folder. */
  close(): Promise<void>;
}

/**
 * What every test of a server, `doctor` or `keep-fresh` process against the fake needs before it starts
 * one: a temporary folder, a loopback fake of the Codex backend and Codex logins. On a failure half-way
 * nothing is left behind.
 */
export async function startUpstreamWithLogins(
  options: { prefix?: string; upstream?: FakeCodexBackendOptions; logins?: CreateCodexHomeOptions[] } = {},
): Promise<UpstreamWithLogins> {
  const dir = await mkdtemp(join(tmpdir(), options.prefix ?? "codex-img-server-"));
  const logins: CodexHomeFixture[] = [];
  let upstream: FakeCodexBackend | undefined;
  const close = async (): Promise<void> => {
    await upstream?.close();
    await Promise.all(logins.map((login) => login.cleanup()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    upstream = await startFakeCodexBackend(options.upstream);
    for (const login of options.logins ?? []) logins.push(await createCodexHome(login));
  } catch (error) {
    await close();
    throw error;
  }
  return { dir, upstream, logins, close };
}

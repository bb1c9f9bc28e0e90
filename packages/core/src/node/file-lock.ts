import { randomUUID } from "node:crypto";
import { link, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { type Clock, sleep, systemClock } from "../clock.js";
import { CodexImgError } from "../errors.js";

export interface FileLockOptions {
  /** How long to wait for another holder before giving up, ms. Default 120 000. */
  waitTimeoutMs?: number;
  /** Pause between attempts while waiting, ms. Default 50. */
  pollIntervalMs?: number;
  /**
   * Age after which a lock whose holder cannot be checked (other host, unreadable pid) is taken over,
   * ms. Default 600 000. Generous on purpose: a refresh takes seconds, and taking the lock from a holder
   * that is still mid-refresh would let two processes spend the same refresh token, which makes OpenAI
   * revoke the login. A holder that is known dead on this host is taken over at once.
   */
  staleAfterMs?: number;
  /** Real time by default: the wait is for other processes, which do not share a test's manual clock. */
  clock?: Clock;
  signal?: AbortSignal;
}

export interface FileLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): Promise<void>;
}

interface LockOwner {
  pid?: number;
  hostname?: string;
  /** Epoch ms. */
  acquiredAt?: number;
  nonce?: string;
}

/**
 * Takes a cross-process lock: a file created with O_EXCL holding the holder's pid and time. Waits by
 * polling while another live holder has it. Works on every local filesystem and for all three runtimes.
 */
export async function acquireFileLock(path: string, options: FileLockOptions = {}): Promise<FileLock> {
  const clock = options.clock ?? systemClock;
  const waitTimeoutMs = options.waitTimeoutMs ?? 120_000;
  const pollIntervalMs = options.pollIntervalMs ?? 50;
  const staleAfterMs = options.staleAfterMs ?? 600_000;
  const started = clock.now();
  const owner: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    acquiredAt: clock.now(),
    nonce: randomUUID(),
  };
  const content = JSON.stringify(owner);

  for (;;) {
    options.signal?.throwIfAborted();
    if (await tryCreate(path, content)) return ownedLock(path, content);

    const held = await readHolder(path);
    if (held && isStale(held.owner, held.mtimeMs, clock.now(), staleAfterMs)) {
      await takeOver(path, held.text);
      continue;
    }
    if (clock.now() - started >= waitTimeoutMs) {
      throw new CodexImgError(
        "upstream_timeout",
        `Timed out after ${waitTimeoutMs} ms waiting for the lock ${path}` +
          (held?.owner.pid ? ` held by pid ${held.owner.pid}` : "") +
          ". If no codex-img or codex process is running, delete the file.",
        { retryable: true },
      );
    }
    await sleep(clock, pollIntervalMs, options.signal);
  }
}

/** Runs `fn` while holding the lock at `path`, releasing it however `fn` ends. */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const lock = await acquireFileLock(path, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

async function tryCreate(path: string, content: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "wx", 0o600);
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
  } catch (error) {
    // An empty lock nobody owns would block everyone until it counts as stale.
    await handle.close();
    await unlink(path).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return true;
}

function ownedLock(path: string, content: string): FileLock {
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      // Only remove our own file: if it was taken over as stale, it now belongs to someone else.
      const current = await readFile(path, "utf8").catch(() => undefined);
      if (current === content) await unlink(path).catch(() => undefined);
    },
  };
}

async function readHolder(
  path: string,
): Promise<{ owner: LockOwner; text: string; mtimeMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    return { owner: parseOwner(text), text, mtimeMs: info.mtimeMs };
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
}

function parseOwner(text: string): LockOwner {
  try {
    const value = JSON.parse(text) as LockOwner;
    return typeof value === "object" && value !== null ? value : {};
  } catch {
    // Empty or partial: the holder created the file and has not written it yet.
    return {};
  }
}

function isStale(owner: LockOwner, mtimeMs: number, now: number, staleAfterMs: number): boolean {
  if (typeof owner.pid === "number" && owner.hostname === hostname() && !processIsAlive(owner.pid))
    return true;
  const since = typeof owner.acquiredAt === "number" ? owner.acquiredAt : mtimeMs;
  return now - since > staleAfterMs;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return errorCode(error) === "EPERM";
  }
}

/**
 * Removes a stale lock without removing a fresh one that a competing waiter created in between: move
 * it aside, check it is the one judged stale, and put it back if not.
 */
async function takeOver(path: string, staleText: string): Promise<void> {
  const aside = `${path}.stale-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return;
    throw error;
  }
  const moved = await readFile(aside, "utf8").catch(() => undefined);
  if (moved !== staleText) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? (error as { code?: string }).code : undefined;
}

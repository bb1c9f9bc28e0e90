import { randomUUID } from "node:crypto";
import { open, readFile, realpath, rename, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type CodexLogin, parseAuthFile } from "../auth/parse-auth-file.js";

/** auth.json as found on disk. */
export interface AuthFileSnapshot {
  path: string;
  /** Undefined when the file does not exist (never logged in, or keyring storage). */
  text?: string;
  mtimeMs?: number;
}

export function authFilePath(home: string): string {
  return join(home, "auth.json");
}

/**
 * The lock that serialises refreshes of one home across codex-img processes. Not `auth.json.lock`: the
 * official CLI keeps an empty file of that name for its own `flock`, which an exclusive-create lock
 * would take for a holder it cannot identify (and wait ten minutes on), and deleting it would break the
 * CLI's locking. The CLI does not take this lock; coexisting with it relies on re-reading auth.json
 * before a refresh and after `refresh_token_reused` (see codex-home-credentials.ts).
 */
export function authLockPath(home: string): string {
  return join(home, "codex-img-auth.lock");
}

export async function readAuthFile(home: string): Promise<AuthFileSnapshot> {
  const path = authFilePath(home);
  try {
    const [text, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    return { path, text, mtimeMs: info.mtimeMs };
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return { path };
    throw error;
  }
}

/**
 * Identity of auth.json as it is now (inode, size, change and modification times), or undefined when it
 * does not exist: one `stat` tells whether a file read before has changed since, so the login can be
 * read on every call without reading the file on every call.
 */
export async function authFileStamp(home: string): Promise<string | undefined> {
  try {
    const info = await stat(authFilePath(home), { bigint: true });
    return `${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Reads and parses a home's login; throws `login_required` (see `parseAuthFile`). */
export async function readCodexLogin(home: string): Promise<CodexLogin> {
  const snapshot = await readAuthFile(home);
  return parseAuthFile(snapshot.text, { path: snapshot.path });
}

/**
 * Replaces auth.json atomically: a temporary file in the same folder (same filesystem, so `rename` is
 * atomic), flushed to disk before the rename, mode 0600. A reader sees the old or the new file, never
 * half of one, and a crash cannot leave the login truncated. Returns the text written.
 */
export async function writeAuthFile(home: string, content: Record<string, unknown>): Promise<string> {
  // Follow a symlinked auth.json so the link survives and its target gets the new tokens.
  const target = await realpath(authFilePath(home)).catch(() => authFilePath(home));
  const temp = join(dirname(target), `.auth.json.${process.pid}.${randomUUID()}.tmp`);
  const text = `${JSON.stringify(content, null, 2)}\n`;
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(target));
  return text;
}

// Makes the rename itself durable; not supported everywhere (Windows), where it is skipped.
async function syncDirectory(folder: string): Promise<void> {
  try {
    const handle = await open(folder, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort.
  }
}

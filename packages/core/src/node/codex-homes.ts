import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, resolve } from "node:path";
import { type Account, DEFAULT_MAX_CONCURRENCY } from "../accounts/account.js";
import type { CodexClientIdentity } from "../backends/codex-http/codex-headers.js";
import type { Clock } from "../clock.js";
import { CodexImgError } from "../errors.js";
import type { Logger } from "../logger.js";
import { authFilePath } from "./codex-home.js";
import { createCodexHomeCredentials } from "./codex-home-credentials.js";

export interface CodexHomeEntry {
  label: string;
  /** Absolute path of the Codex home folder. */
  home: string;
}

/**
 * Reads a `CODEX_HOMES` value: folders separated by `:`, each optionally `label=folder`. Empty entries
 * are ignored, `~` is expanded, the same folder listed twice counts once (two pool entries on one login
 * would double its concurrency and race its refreshes). Labels default to the folder name, with `-2`,
 * `-3`, … when names repeat. With nothing listed, the one account is `defaultHome`.
 */
export function parseCodexHomes(value: string | undefined, defaultHome: string): CodexHomeEntry[] {
  const raw = (value ?? "")
    .split(":")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  const parsed = (raw.length > 0 ? raw : [defaultHome]).map((part) => {
    const eq = part.indexOf("=");
    const label = eq > 0 && !part.slice(0, eq).includes("/") ? part.slice(0, eq).trim() : undefined;
    const path = label === undefined ? part : part.slice(eq + 1).trim();
    return { label: label === "" ? undefined : label, home: resolve(expandHome(path)) };
  });

  const seen = new Set<string>();
  const unique = parsed.filter((entry) => {
    if (seen.has(entry.home)) return false;
    seen.add(entry.home);
    return true;
  });

  const used = new Set<string>();
  for (const entry of unique) {
    if (entry.label === undefined) continue;
    if (used.has(entry.label)) {
      throw new CodexImgError("invalid_request", `CODEX_HOMES gives the label "${entry.label}" twice.`, {
        details: { param: "CODEX_HOMES" },
      });
    }
    used.add(entry.label);
  }
  // Folder names that occur once keep their name even when an earlier duplicate needs a suffix.
  const baseOf = (home: string): string => basename(home) || home;
  const counts = new Map<string, number>();
  for (const entry of unique) {
    if (entry.label === undefined) counts.set(baseOf(entry.home), (counts.get(baseOf(entry.home)) ?? 0) + 1);
  }
  const labels = unique.map((entry) => {
    if (entry.label !== undefined) return entry.label;
    const base = baseOf(entry.home);
    if (counts.get(base) !== 1 || used.has(base)) return undefined;
    used.add(base);
    return base;
  });
  return unique.map((entry, i) => {
    let label = labels[i];
    if (label === undefined) {
      const base = baseOf(entry.home);
      label = base;
      for (let n = 2; used.has(label); n++) label = `${base}-${n}`;
      used.add(label);
    }
    return { label, home: entry.home };
  });
}

function expandHome(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return `${homedir()}${path.slice(1)}`;
  return path;
}

export interface AccountsFromCodexHomesOptions {
  /** Which backend will use the accounts; sets the default concurrency (`DEFAULT_MAX_CONCURRENCY`). */
  backend: "codex-http" | "codex-cli";
  /** Token endpoint for refreshes; default the official one. */
  tokenUrl?: string;
  fetch?: typeof fetch;
  /** Version and OS facts for the refresh requests' User-Agent. */
  client?: CodexClientIdentity;
  clock?: Clock;
  logger?: Logger;
  /** Overrides the backend's default, for every account. */
  maxConcurrency?: number;
}

/** One pool account per Codex home, with credentials refreshed safely and a login fingerprint. */
export function accountsFromCodexHomes(
  homes: readonly CodexHomeEntry[],
  options: AccountsFromCodexHomesOptions,
): Account[] {
  return homes.map(({ label, home }) => ({
    label,
    codexHome: home,
    credentials: createCodexHomeCredentials({
      home,
      label,
      ...(options.tokenUrl ? { tokenUrl: options.tokenUrl } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.client ? { client: options.client } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    }),
    maxConcurrency: options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY[options.backend],
    loginFingerprint: () => authFileFingerprint(home),
  }));
}

/**
 * Identifies the auth.json of a home by mtime, size and a hash of its content, so that `codex login`
 * (or any rewrite) is noticed. Undefined when there is no auth.json.
 */
export async function authFileFingerprint(home: string): Promise<string | undefined> {
  const path = authFilePath(home);
  try {
    const [info, bytes] = await Promise.all([stat(path), readFile(path)]);
    const hash = createHash("sha256").update(bytes).digest("hex");
    return `${info.mtimeMs}:${info.size}:${hash}`;
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
}

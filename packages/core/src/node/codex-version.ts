import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { arch, homedir, release, type } from "node:os";
import { join } from "node:path";
import type { CodexOsInfo } from "../backends/codex-http/codex-headers.js";
import { CODEX_VERSION_FLOOR } from "../backends/codex-http/constants.js";
import { extractSemver, resolveCodexVersion } from "../backends/codex-http/resolve-codex-version.js";

export interface LocalCodexVersions {
  /** From `codex --version`, when the executable exists and answered in time. */
  installed?: string;
  /** `latest_version` of `$CODEX_HOME/version.json`. */
  versionJsonLatest?: string;
}

export interface LocalCodexVersionOptions {
  /** The Codex home whose `version.json` to read. Default `~/.codex`. */
  codexHome?: string;
  /** The CLI to ask; default `codex` on the PATH. */
  executable?: string;
  /** How long `codex --version` may take. Default 3,000 ms. */
  timeoutMs?: number;
}

/** Both local hints of the current Codex version; each is simply missing when it cannot be read. */
export async function readLocalCodexVersions(
  options: LocalCodexVersionOptions = {},
): Promise<LocalCodexVersions> {
  const [installed, versionJsonLatest] = await Promise.all([
    readInstalledCodexVersion(options.executable ?? "codex", options.timeoutMs ?? 3000),
    readVersionJson(options.codexHome ?? join(homedir(), ".codex")),
  ]);
  return {
    ...(installed === undefined ? {} : { installed }),
    ...(versionJsonLatest === undefined ? {} : { versionJsonLatest }),
  };
}

/**
 * A `versionResolver` for `createCodexHttpBackend`: the largest of the installed CLI, version.json and
 * `CODEX_VERSION_FLOOR`, or `override` when given. Looked up once, then cached.
 */
export function createCodexVersionResolver(
  options: LocalCodexVersionOptions & { override?: string } = {},
): () => Promise<string> {
  let cached: Promise<string> | undefined;
  return () => {
    cached ??= (async () => {
      if (options.override)
        return resolveCodexVersion({ override: options.override, floor: CODEX_VERSION_FLOOR });
      const found = await readLocalCodexVersions(options);
      return resolveCodexVersion({ ...found, floor: CODEX_VERSION_FLOOR });
    })();
    return cached;
  };
}

/** OS facts for the User-Agent, named the way the official client names them. */
export function detectCodexOsInfo(terminal = "unknown"): CodexOsInfo {
  const osNames: Record<string, string> = { Linux: "Linux", Darwin: "Mac OS", Windows_NT: "Windows" };
  const archNames: Record<string, string> = { x64: "x86_64", arm64: "arm64", ia32: "x86", arm: "arm" };
  const osType = type();
  const cpu = arch();
  return { os: osNames[osType] ?? osType, osVersion: release(), arch: archNames[cpu] ?? cpu, terminal };
}

/** `codex --version` of `executable` as a semver, or undefined when it cannot be run or read. */
export function readInstalledCodexVersion(
  executable: string,
  timeoutMs: number,
  env?: Record<string, string | undefined>,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    try {
      const options = { timeout: timeoutMs, windowsHide: true, ...(env ? { env } : {}) };
      execFile(executable, ["--version"], options, (error, stdout) => {
        // A missing or broken CLI is normal (the HTTP backend does not need it): just no hint.
        resolve(error ? undefined : extractSemver(String(stdout)));
      });
    } catch {
      resolve(undefined);
    }
  });
}

async function readVersionJson(codexHome: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(codexHome, "version.json"), "utf8")) as {
      latest_version?: unknown;
    };
    return typeof parsed.latest_version === "string" ? extractSemver(parsed.latest_version) : undefined;
  } catch {
    return undefined;
  }
}

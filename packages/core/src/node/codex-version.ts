import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { arch, homedir, release, type } from "node:os";
import { join } from "node:path";
import type { CodexOsInfo } from "../backends/codex-http/codex-headers.js";
import { compareSemver, extractSemver } from "../backends/codex-http/compare-semver.js";
import { basicChildEnv } from "./codex-cli/build-child-env.js";

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
  /** Where PATH and HOME come from for the probe; nothing else of it reaches the child. Default `process.env`. */
  parentEnv?: Record<string, string | undefined>;
}

/** Both local hints of the current Codex version; each is simply missing when it cannot be read. */
export async function readLocalCodexVersions(
  options: LocalCodexVersionOptions = {},
): Promise<LocalCodexVersions> {
  const [installed, versionJsonLatest] = await Promise.all([
    readInstalledCodexVersion(
      options.executable ?? "codex",
      options.timeoutMs ?? 3000,
      basicChildEnv(options.parentEnv ?? process.env),
    ),
    readVersionJson(options.codexHome ?? join(homedir(), ".codex")),
  ]);
  return {
    ...(installed === undefined ? {} : { installed }),
    ...(versionJsonLatest === undefined ? {} : { versionJsonLatest }),
  };
}

/**
 * The newest of the local hints when it is newer than the version the backend impersonates, else
 * undefined: the moment to re-record the CLI's requests and move the setting forward (`doctor` warns).
 */
export function newerLocalCodexVersion(impersonated: string, found: LocalCodexVersions): string | undefined {
  let newest: string | undefined;
  for (const candidate of [found.installed, found.versionJsonLatest]) {
    if (candidate === undefined) continue;
    if (compareSemver(candidate, newest ?? impersonated) > 0) newest = candidate;
  }
  return newest;
}

/** Display names the official client uses (the Rust `os_info` crate) for common os-release ids. */
const OS_NAMES: Record<string, string> = {
  debian: "Debian",
  ubuntu: "Ubuntu",
  fedora: "Fedora",
  alpine: "Alpine Linux",
  arch: "Arch Linux",
  centos: "CentOS",
  rhel: "Red Hat Enterprise Linux",
  rocky: "Rocky Linux",
  almalinux: "AlmaLinux",
  amzn: "Amazon Linux AMI",
  opensuse: "openSUSE",
  "opensuse-leap": "openSUSE",
  linuxmint: "Linux Mint",
  nixos: "NixOS",
  raspbian: "Raspbian",
};
const ARCH_NAMES: Record<string, string> = { x64: "x86_64", arm64: "aarch64", ia32: "i386", arm: "arm" };

/**
 * OS facts for the User-Agent as the official client reports them: the distribution's name and version
 * from `/etc/os-release` (`Debian 12.0.0`, not the kernel release), the architecture, and the terminal.
 */
export function detectCodexOsInfo(terminal = "xterm", osReleaseText?: string): CodexOsInfo {
  const osType = type();
  const cpu = arch();
  const archName = ARCH_NAMES[cpu] ?? cpu;
  if (osType === "Darwin")
    return { os: "Mac OS", osVersion: semverOf(macVersion()), arch: archName, terminal };
  if (osType === "Windows_NT")
    return { os: "Windows", osVersion: semverOf(release()), arch: archName, terminal };
  const fields = parseOsRelease(osReleaseText ?? readOsRelease());
  const id = fields.ID ?? "";
  const os = OS_NAMES[id] ?? fields.NAME ?? "Linux";
  const osVersion = fields.VERSION_ID ? semverOf(fields.VERSION_ID) : "Rolling Release";
  return { os, osVersion, arch: archName, terminal };
}

function readOsRelease(): string {
  for (const path of ["/etc/os-release", "/usr/lib/os-release"]) {
    try {
      return readFileSync(path, "utf8");
    } catch {
      // Try the next location.
    }
  }
  return "";
}

function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1]) fields[match[1]] = (match[2] ?? "").replace(/^["']|["']$/g, "");
  }
  return fields;
}

function macVersion(): string {
  // Darwin 23.x is macOS 14.x; os_info reads the product version, which Darwin's major maps to.
  const major = Number(release().split(".")[0]);
  return Number.isFinite(major) && major >= 20 ? `${major - 9}.0.0` : release();
}

/** `12` → `12.0.0`, `22.04` → `22.4.0` (numbers, as the client's semantic version prints them). */
function semverOf(text: string): string {
  const parts = text.split(".").map((part) => Number.parseInt(part, 10));
  if (parts.length === 0 || parts.some((n) => !Number.isFinite(n))) return text;
  while (parts.length < 3) parts.push(0);
  return parts.slice(0, 3).join(".");
}

/** `codex --version` of `executable` as a semver, or undefined when it cannot be run or read. */
export function readInstalledCodexVersion(
  executable: string,
  timeoutMs: number,
  env: Record<string, string>,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    try {
      execFile(executable, ["--version"], { timeout: timeoutMs, windowsHide: true, env }, (error, stdout) => {
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

import { isLoopbackHost } from "./config/listen-safety.js";
import { redactUrl } from "./config/redacted-config.js";
import type { Config } from "./config/settings.js";
import type { PreflightDatabase } from "./preflight-report.js";

/** The configured database as the report names it: a local file, a remote server or a replica (no secret). */
export function preflightDatabase(config: Config): PreflightDatabase {
  const url = redactUrl(config.databaseUrl);
  const token = config.databaseAuthToken ? "[set]" : "[not set]";
  if (config.databaseUrl.startsWith("file:")) {
    const path = config.databaseUrl
      .slice("file:".length)
      .replace(/\?.*$/, "")
      .replace(/^\/\/(?=\/)/, "");
    if (config.databaseSyncUrl === undefined) return { kind: "local", url, path };
    return { kind: "replica", url, path, syncHost: hostOf(config.databaseSyncUrl), authToken: token };
  }
  return { kind: "remote", url, host: hostOf(config.databaseUrl), authToken: token };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(unparsable URL)";
  }
}

/** Whether the database (or the replica's sync target) is on this machine, where no token is needed. */
export function isLoopbackDatabase(config: Config): boolean {
  const target = config.databaseSyncUrl ?? config.databaseUrl;
  try {
    return isLoopbackHost(new URL(target).hostname);
  } catch {
    return false;
  }
}

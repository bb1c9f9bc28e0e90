import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "./settings.js";

export const SESSION_SECRET_FILE = "session-secret";

export interface ResolvedSessionSecret {
  secret: string;
  /** `config`: given by the owner; `file`: read from the data folder; `generated`: created just now. */
  origin: "config" | "file" | "generated";
  /** The file that holds it, unless it came from the configuration. */
  path?: string;
}

/**
 * The session secret: the configured one, else one kept in `<dataDir>/session-secret` (created once,
 * mode 0600). Kept rather than made per start so that restarts do not log everyone out or break
 * signed image URLs that were already handed out.
 */
export async function resolveSessionSecret(
  config: Pick<Config, "sessionSecret" | "dataDir">,
): Promise<ResolvedSessionSecret> {
  if (config.sessionSecret) return { secret: config.sessionSecret, origin: "config" };
  const path = join(config.dataDir, SESSION_SECRET_FILE);
  const existing = await readSecret(path);
  if (existing !== undefined) return { secret: existing, origin: "file", path };
  await mkdir(config.dataDir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  try {
    // `wx`: when two instances start at once on one data folder, one writes and the other reads.
    await writeFile(path, `${secret}\n`, { mode: 0o600, flag: "wx" });
    return { secret, origin: "generated", path };
  } catch (error) {
    if ((error as { code?: string }).code !== "EEXIST") throw error;
    const written = await readSecret(path);
    if (written === undefined) throw error;
    return { secret: written, origin: "file", path };
  }
}

async function readSecret(path: string): Promise<string | undefined> {
  try {
    const text = (await readFile(path, "utf8")).trim();
    return text === "" ? undefined : text;
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
}

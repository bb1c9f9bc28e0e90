import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { CliError, EXIT } from "./exit-codes.js";

export const DEFAULT_BASE_URL = "http://127.0.0.1:8000";

export type Env = Record<string, string | undefined>;

export type Source = "flag" | "env" | "config" | "default";

export interface Settings {
  baseUrl: string;
  baseUrlSource: Source;
  apiKey?: string;
  /** Where the key came from, for `doctor` and error messages; never the key itself. */
  apiKeySource?: string;
  /** Things the user should fix, printed on stderr. */
  warnings: string[];
}

export interface SettingsFlags {
  baseUrl?: string;
  apiKeyFile?: string;
}

interface ConfigJson {
  baseUrl?: string;
  apiKey?: string;
  adminPassword?: string;
}

/** `$XDG_CONFIG_HOME/codex-img`, else `~/.config/codex-img` (HOME from the environment first). */
export function configDir(env: Env): string {
  const base = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), ".config");
  return join(base, "codex-img");
}

/**
 * Base URL and key, each from the first source that has it: flag, environment, config folder, default.
 * Tokens are never taken from the command line itself: transcripts of agents' tool calls keep it.
 */
export async function resolveSettings(flags: SettingsFlags, env: Env, cwd: string): Promise<Settings> {
  const warnings: string[] = [];
  const dir = configDir(env);
  const config = await readConfigJson(dir, warnings);

  let baseUrl: string | undefined;
  let baseUrlSource: Source = "default";
  if (flags.baseUrl) {
    baseUrl = flags.baseUrl;
    baseUrlSource = "flag";
  } else if (env.CODEX_IMG_BASE_URL?.trim()) {
    baseUrl = env.CODEX_IMG_BASE_URL.trim();
    baseUrlSource = "env";
  } else {
    const fromFile = (await readOptional(join(dir, "base-url")))?.trim() || config?.baseUrl?.trim();
    if (fromFile) {
      baseUrl = fromFile;
      baseUrlSource = "config";
    }
  }
  const url = checkBaseUrl(baseUrl ?? DEFAULT_BASE_URL, baseUrlSource);

  let apiKey: string | undefined;
  let apiKeySource: string | undefined;
  if (flags.apiKeyFile) {
    const path = resolve(cwd, flags.apiKeyFile);
    const text = await readOptional(path);
    if (text === undefined) throw new CliError(EXIT.usage, `--api-key-file ${path}: no such file.`);
    // A file the user names explicitly (a mounted secret, say) is used, with a warning when it is open.
    const looseness = await looseMode(path);
    if (looseness) warnings.push(`${path} is ${looseness}; run: chmod 600 ${path}`);
    apiKey = text.trim();
    apiKeySource = `--api-key-file ${path}`;
  } else if (env.CODEX_IMG_API_KEY?.trim()) {
    apiKey = env.CODEX_IMG_API_KEY.trim();
    apiKeySource = "CODEX_IMG_API_KEY";
  } else {
    const keyPath = join(dir, "api-key");
    const text = await readSecretFile(keyPath);
    if (text?.trim()) {
      apiKey = text.trim();
      apiKeySource = keyPath;
    } else if (config?.apiKey?.trim()) {
      apiKey = config.apiKey.trim();
      apiKeySource = join(dir, "config.json");
    }
  }
  if (apiKey !== undefined && apiKey === "") throw new CliError(EXIT.usage, `${apiKeySource} is empty.`);
  return {
    baseUrl: url,
    baseUrlSource,
    ...(apiKey ? { apiKey } : {}),
    ...(apiKeySource ? { apiKeySource } : {}),
    warnings,
  };
}

/** The admin password: `CODEX_IMG_ADMIN_PASSWORD`, else `admin-password` or `config.json` (mode 600). */
export async function resolveAdminPassword(env: Env): Promise<string> {
  if (env.CODEX_IMG_ADMIN_PASSWORD) return env.CODEX_IMG_ADMIN_PASSWORD;
  const dir = configDir(env);
  const fromFile = (await readSecretFile(join(dir, "admin-password")))?.replace(/\r?\n$/, "");
  if (fromFile) return fromFile;
  const config = await readConfigJson(dir, []);
  if (config?.adminPassword) return config.adminPassword;
  throw new CliError(
    EXIT.auth,
    `Admin commands need the admin password in CODEX_IMG_ADMIN_PASSWORD or ${join(dir, "admin-password")} ` +
      "(mode 600). It is never read from the command line.",
  );
}

function checkBaseUrl(value: string, source: Source): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new CliError(EXIT.usage, `The base URL from ${source} is not a URL: ${value}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new CliError(EXIT.usage, `The base URL must be http(s): ${value}`);
  }
  return value.replace(/\/+$/, "");
}

async function readConfigJson(dir: string, warnings: string[]): Promise<ConfigJson | undefined> {
  const path = join(dir, "config.json");
  const text = await readOptional(path);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(EXIT.usage, `${path} is not valid JSON.`);
  }
  if (!parsed || typeof parsed !== "object") throw new CliError(EXIT.usage, `${path} must hold an object.`);
  const config = parsed as Record<string, unknown>;
  const pick = (name: string): string | undefined =>
    typeof config[name] === "string" ? (config[name] as string) : undefined;
  const result: ConfigJson = {};
  const baseUrl = pick("baseUrl");
  if (baseUrl) result.baseUrl = baseUrl;
  const apiKey = pick("apiKey");
  const adminPassword = pick("adminPassword");
  if (apiKey || adminPassword) {
    await assertPrivate(path);
    if (apiKey) result.apiKey = apiKey;
    if (adminPassword) result.adminPassword = adminPassword;
  }
  for (const name of Object.keys(config)) {
    if (!["baseUrl", "apiKey", "adminPassword"].includes(name))
      warnings.push(`${path}: unknown field "${name}"`);
  }
  return result;
}

/** A secret from the config folder; refused when others can read it, because others then have it too. */
async function readSecretFile(path: string): Promise<string | undefined> {
  const text = await readOptional(path);
  if (text !== undefined) await assertPrivate(path);
  return text;
}

async function assertPrivate(path: string): Promise<void> {
  const looseness = await looseMode(path);
  if (looseness) {
    throw new CliError(EXIT.usage, `Refusing to read ${path}: it is ${looseness}. Run: chmod 600 ${path}`);
  }
}

/** How a file is more open than 600, or undefined. Windows has no such modes. */
async function looseMode(path: string): Promise<string | undefined> {
  if (process.platform === "win32") return undefined;
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return `mode ${mode.toString(8).padStart(3, "0")} (open to group or others)`;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
}

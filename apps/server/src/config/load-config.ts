import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { isCodexImgError, parseCodexHomes } from "@codex-img/core";
import { coerceSetting } from "./coerce.js";
import { configFileValues, readConfigFile } from "./config-file.js";
import { type FlagReading, parseFlags } from "./parse-flags.js";
import { type ConfigProblem, configError } from "./problems.js";
import { type Environment, type EnvironmentReading, readEnvironment } from "./read-environment.js";
import type { SettingSpec } from "./setting-spec.js";
import {
  type Config,
  configSchema,
  SETTING_KEYS,
  SETTINGS,
  type SettingKey,
  settingNames,
} from "./settings.js";

/** Where a value came from; `name` is the flag, variable or file as the owner wrote it. */
export type ConfigSource = { from: "flag" | "env" | "file"; name: string } | { from: "default" };

export interface LoadConfigOptions {
  /** Command-line arguments without the runtime and script (`process.argv.slice(2)`). */
  argv?: readonly string[];
  /** The environment (`process.env`). */
  env?: Environment;
  /**
   * A config file to use when neither `--config` nor `CODEX_IMG_CONFIG` names one: a path, or content
   * already parsed (embedders, tests). Without it, `<dataDir>/config.json` is read if it exists.
   */
  configFile?: string | { path?: string; content: unknown };
  /** Folder relative paths are resolved against. Default `process.cwd()`. */
  cwd?: string;
}

export interface LoadedConfig {
  config: Config;
  sources: Record<SettingKey, ConfigSource>;
  /** Things the owner should know that do not stop the start (a name shadowed by another, …). */
  warnings: string[];
  /** The config file that was read, if any. */
  configFile?: string;
  /** Non-flag words, such as a `doctor` command. */
  positionals: string[];
  /** `--help` / `-h` was given. */
  help: boolean;
  /** `--json` was given (machine-readable output of a command). */
  json: boolean;
}

type RawValue = { value: unknown; source: Exclude<ConfigSource, { from: "default" }> };

/**
 * Reads the configuration once: flags, then the environment (`CODEX_IMG_*` before the predecessor's
 * names), then the config file, then defaults. Throws one `invalid_request` error listing every
 * problem by the name the owner used; values are never quoted, since some are secrets.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const flags = parseFlags(options.argv ?? []);
  const env = readEnvironment(options.env ?? {});
  const problems: ConfigProblem[] = [...flags.problems];
  const warnings: string[] = [...env.warnings];

  const file = readFile(options, flags, env, cwd);
  problems.push(...file.problems);

  const raw: Partial<Record<SettingKey, unknown>> = {};
  const sources = {} as Record<SettingKey, ConfigSource>;
  for (const key of SETTING_KEYS) {
    const setting: SettingSpec = SETTINGS[key];
    const picked = pick(key, flags.values[key], env.values[key], file.values[key], file.path);
    if (!picked) {
      sources[key] = { from: "default" };
      continue;
    }
    sources[key] = picked.source;
    const given = key === "codexHomes" ? joinHomeList(picked.value) : picked.value;
    const coerced = coerceSetting(setting.kind, given);
    if (coerced.ok) raw[key] = coerced.value;
    else problems.push({ setting: key, name: picked.source.name, message: coerced.message });
    if (setting.secret && picked.source.from === "flag") {
      warnings.push(
        `${picked.source.name} is visible to every user of this machine in the process list; prefer ${setting.env} or the config file.`,
      );
    }
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path[0] as SettingKey;
      problems.push({ setting: key, name: nameOf(key, sources[key]), message: issue.message });
    }
  }
  if (!parsed.success || problems.length > 0) throw configError(problems);

  const settings = parsed.data;
  const dataDir = resolve(cwd, settings.dataDir);
  const config: Config = {
    ...settings,
    dataDir,
    databaseUrl: settings.databaseUrl ?? `file:${join(dataDir, "codex-img.db")}`,
    basePath: settings.basePath ?? pathOf(settings.publicBaseUrl),
  };
  problems.push(...crossFieldProblems(config, sources));
  if (problems.length > 0) throw configError(problems);

  return {
    config,
    sources,
    warnings,
    ...(file.path === undefined ? {} : { configFile: file.path }),
    positionals: flags.positionals,
    help: flags.help,
    json: flags.json,
  };
}

/** The composition root's one call: the process is handed in so that nothing else reads it. */
export function loadConfigFromProcess(proc: {
  argv: readonly string[];
  env: Environment;
  cwd(): string;
}): LoadedConfig {
  return loadConfig({ argv: proc.argv.slice(2), env: proc.env, cwd: proc.cwd() });
}

function readFile(
  options: LoadConfigOptions,
  flags: FlagReading,
  env: EnvironmentReading,
  cwd: string,
): { path?: string; values: Partial<Record<SettingKey, unknown>>; problems: ConfigProblem[] } {
  const explicit = flags.configPath ?? env.configPath ?? options.configFile;
  if (typeof explicit === "string") return readConfigFile(resolve(cwd, explicit), { required: true });
  if (explicit !== undefined) {
    const path = explicit.path ?? "config file";
    return { path, ...configFileValues(explicit.content, path) };
  }
  // The default file lives in the data folder, so that folder is found without it: flag, env or default.
  const dataDir = flags.values.dataDir?.value ?? env.values.dataDir?.value;
  const folder = typeof dataDir === "string" ? dataDir : SETTINGS.dataDir.defaultText;
  return readConfigFile(join(resolve(cwd, folder), "config.json"), { required: false });
}

function pick(
  key: SettingKey,
  flag: { value: unknown; name: string } | undefined,
  env: { value: string; name: string } | undefined,
  fileValue: unknown,
  filePath: string | undefined,
): RawValue | undefined {
  if (flag) return { value: flag.value, source: { from: "flag", name: flag.name } };
  if (env) return { value: env.value, source: { from: "env", name: env.name } };
  if (fileValue !== undefined) {
    return { value: fileValue, source: { from: "file", name: `${filePath ?? "config file"}: "${key}"` } };
  }
  return undefined;
}

function nameOf(key: SettingKey, source: ConfigSource | undefined): string {
  return source && source.from !== "default" ? source.name : settingNames(key).join(" / ");
}

function joinHomeList(value: unknown): unknown {
  return Array.isArray(value) && value.every((item) => typeof item === "string") ? value.join(":") : value;
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return "";
  return new URL(url).pathname.replace(/\/+$/, "");
}

function crossFieldProblems(config: Config, sources: Record<SettingKey, ConfigSource>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.backend === "openai" && !config.openaiApiKey) {
    problems.push({
      setting: "openaiApiKey",
      name: nameOf("openaiApiKey", sources.openaiApiKey),
      message: `is required when the backend is "openai" (${nameOf("backend", sources.backend)})`,
    });
  }
  if (config.databaseSyncUrl !== undefined && !config.databaseUrl.startsWith("file:")) {
    problems.push({
      setting: "databaseSyncUrl",
      name: nameOf("databaseSyncUrl", sources.databaseSyncUrl),
      message: "needs a local file: databaseUrl to hold the embedded replica",
    });
  }
  try {
    parseCodexHomes(config.codexHomes, join(homedir(), ".codex"));
  } catch (error) {
    if (!isCodexImgError(error)) throw error;
    problems.push({
      setting: "codexHomes",
      name: nameOf("codexHomes", sources.codexHomes),
      message: error.message.replace(/^CODEX_HOMES /, ""),
    });
  }
  return problems;
}

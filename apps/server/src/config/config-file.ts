import { readFileSync } from "node:fs";
import type { ConfigProblem } from "./problems.js";
import { SETTING_KEYS, type SettingKey } from "./settings.js";

export interface ConfigFileReading {
  /** The file read, when one was. */
  path?: string;
  values: Partial<Record<SettingKey, unknown>>;
  problems: ConfigProblem[];
}

const KNOWN = new Set<string>(SETTING_KEYS);

/**
 * Reads a JSON config file whose keys are the setting names (`"port": 8000`). A file that was asked for
 * must exist; the default `<dataDir>/config.json` may be missing. Unknown keys are errors: a misspelt
 * key silently ignored is a setting the owner believes is on.
 */
export function readConfigFile(path: string, options: { required: boolean }): ConfigFileReading {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT" && !options.required) return { values: {}, problems: [] };
    const reason = code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? "error"})`;
    return { path, values: {}, problems: [{ name: path, message: `config file ${reason}` }] };
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch {
    // No parser message: it quotes a slice of the file, which may hold a password.
    return { path, values: {}, problems: [{ name: path, message: "config file is not valid JSON" }] };
  }
  return { path, ...configFileValues(content, path) };
}

/** Checks parsed config-file content (from a file, or handed over by an embedder or a test). */
export function configFileValues(
  content: unknown,
  path: string,
): { values: Partial<Record<SettingKey, unknown>>; problems: ConfigProblem[] } {
  if (typeof content !== "object" || content === null || Array.isArray(content)) {
    return { values: {}, problems: [{ name: path, message: "config file must hold a JSON object" }] };
  }
  const values: Partial<Record<SettingKey, unknown>> = {};
  const problems: ConfigProblem[] = [];
  for (const [key, value] of Object.entries(content)) {
    if (key === "$schema") continue;
    if (!KNOWN.has(key)) {
      problems.push({
        name: `${path}: "${key}"`,
        message: "is not a known setting (see docs/configuration.md)",
      });
      continue;
    }
    if (value === null) continue;
    values[key as SettingKey] = value;
  }
  return { values, problems };
}

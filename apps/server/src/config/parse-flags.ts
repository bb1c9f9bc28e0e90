import { parseArgs } from "node:util";
import type { ConfigProblem } from "./problems.js";
import type { SettingSpec } from "./setting-spec.js";
import { SETTING_KEYS, SETTINGS, type SettingKey } from "./settings.js";

export interface FlagValue {
  /** A string as typed, or `true`/`false` for a bare `--flag` / `--no-flag`. */
  value: string | boolean;
  /** The flag as written, `--port`. */
  name: string;
}

export interface FlagReading {
  values: Partial<Record<SettingKey, FlagValue>>;
  /** `--config <path>`. */
  configPath?: string;
  /** Words that are not flags (a command such as `doctor`). */
  positionals: string[];
  help: boolean;
  /** `--json`: machine-readable output for commands such as `doctor`. */
  json: boolean;
  problems: ConfigProblem[];
}

/**
 * Reads the command line. Parsed leniently and checked token by token, so that every unknown or
 * incomplete flag is reported at once rather than the first one thrown.
 */
export function parseFlags(argv: readonly string[]): FlagReading {
  const byFlag = new Map<string, SettingKey>();
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    config: { type: "string" },
    help: { type: "boolean", short: "h" },
    json: { type: "boolean" },
  };
  for (const key of SETTING_KEYS) {
    const setting: SettingSpec = SETTINGS[key];
    byFlag.set(setting.flag, key);
    options[setting.flag] = { type: setting.kind === "boolean" ? "boolean" : "string" };
  }

  const { tokens = [], positionals } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  const reading: FlagReading = { values: {}, positionals, help: false, json: false, problems: [] };
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const name = token.rawName;
    if (token.name === "help") {
      reading.help = true;
      continue;
    }
    if (token.name === "json") {
      reading.json = true;
      continue;
    }
    const negated = token.name.startsWith("no-") ? byFlag.get(token.name.slice(3)) : undefined;
    if (negated !== undefined && SETTINGS[negated].kind === "boolean" && token.value === undefined) {
      reading.values[negated] = { value: false, name };
      continue;
    }
    const key = token.name === "config" ? "config" : byFlag.get(token.name);
    if (key === undefined) {
      reading.problems.push({ name, message: "is not a known flag (see docs/configuration.md)" });
      continue;
    }
    const isBoolean = key !== "config" && SETTINGS[key].kind === "boolean";
    if (isBoolean) {
      reading.values[key] = { value: token.value ?? true, name };
      continue;
    }
    // Lenient parsing takes the next word as the value even when it is another flag.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith("-"))) {
      reading.problems.push({
        ...(key === "config" ? {} : { setting: key }),
        name,
        message: `needs a value (${name} <value> or ${name}=<value>)`,
      });
      continue;
    }
    if (key === "config") reading.configPath = token.value;
    else reading.values[key] = { value: token.value, name };
  }
  return reading;
}

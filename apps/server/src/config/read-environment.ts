import type { SettingSpec } from "./setting-spec.js";
import { SETTING_KEYS, SETTINGS, type SettingKey } from "./settings.js";

/** The process environment, passed in: this module is the server's only reader of it. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The variable naming a JSON config file. */
export const CONFIG_FILE_ENV = "CODEX_IMG_CONFIG";

export interface EnvironmentValue {
  value: string;
  /** The variable it came from. */
  name: string;
}

export interface EnvironmentReading {
  values: Partial<Record<SettingKey, EnvironmentValue>>;
  configPath?: string;
  warnings: string[];
}

/**
 * Picks each setting's value from the environment: the `CODEX_IMG_*` name first, then the older names
 * in order. Empty variables count as unset, as `.env` templates leave them (`ADMIN_PASSWORD=`).
 */
export function readEnvironment(env: Environment): EnvironmentReading {
  const values: Partial<Record<SettingKey, EnvironmentValue>> = {};
  const warnings: string[] = [];
  for (const key of SETTING_KEYS) {
    const setting: SettingSpec = SETTINGS[key];
    const present = [setting.env, ...setting.legacyEnv].filter((name) => nonEmpty(env[name]) !== undefined);
    const [chosen, ...ignored] = present;
    if (chosen === undefined) continue;
    values[key] = { value: nonEmpty(env[chosen]) as string, name: chosen };
    if (ignored.length > 0) {
      const verb = ignored.length === 1 ? "is" : "are";
      warnings.push(`${chosen} is set, so ${ignored.join(", ")} ${verb} ignored.`);
    }
  }
  const configPath = nonEmpty(env[CONFIG_FILE_ENV]);
  return { values, ...(configPath === undefined ? {} : { configPath }), warnings };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

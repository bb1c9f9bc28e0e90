import type { SettingSpec } from "./setting-spec.js";
import { type Config, SETTING_KEYS, SETTINGS } from "./settings.js";

export type RedactedConfig = { [K in keyof Config]: Config[K] | "[set]" | "[not set]" };

/** The configuration as logs and `doctor` may show it: secrets as "[set]" / "[not set]". */
export function redactedConfig(config: Config): RedactedConfig {
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const setting: SettingSpec = SETTINGS[key];
    const value = config[key];
    if (setting.secret) out[key] = value === undefined || value === "" ? "[not set]" : "[set]";
    else if (typeof value === "string" && /^[a-z]+:\/\//i.test(value)) out[key] = redactUrl(value);
    else out[key] = value;
  }
  return out as RedactedConfig;
}

/** Drops credentials a URL may carry (`user:pass@`, `?authToken=`), keeping where it points. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const sensitive = [...parsed.searchParams.keys()].filter((name) =>
    /token|key|secret|password|auth/i.test(name),
  );
  // Untouched when clean: URL parsing would rewrite `file:/x` as `file:///x`.
  if (!parsed.username && !parsed.password && sensitive.length === 0) return url;
  if (parsed.username) parsed.username = "redacted";
  if (parsed.password) parsed.password = "redacted";
  for (const name of sensitive) parsed.searchParams.set(name, "[redacted]");
  return parsed.toString().replace(/%5Bredacted%5D/g, "[redacted]");
}

import { z } from "zod";
import { JOB_SETTINGS } from "./job-settings.js";
import { SERVICE_SETTINGS } from "./service-settings.js";
import { LOG_LEVELS, type SettingSpec, spec } from "./setting-spec.js";
import { UPSTREAM_SETTINGS } from "./upstream-settings.js";

/**
 * Every setting of the server. The documentation table (docs/configuration.md) lists exactly these keys;
 * a test keeps the two in step.
 */
export const SETTINGS = {
  ...SERVICE_SETTINGS,
  ...JOB_SETTINGS,
  ...UPSTREAM_SETTINGS,
  trustProxy: spec({
    schema: z.boolean({ error: "must be true or false" }).default(false),
    kind: "boolean",
    flag: "trust-proxy",
    env: "CODEX_IMG_TRUST_PROXY",
    legacyEnv: [],
    defaultText: "false",
    description:
      "Believe X-Forwarded-For / X-Forwarded-Proto (client address for limits and audit, https for cookies). Only behind a proxy you run.",
  }),
  signedUrls: spec({
    schema: z.boolean({ error: "must be true or false" }).default(true),
    kind: "boolean",
    flag: "signed-urls",
    env: "CODEX_IMG_SIGNED_URLS",
    legacyEnv: [],
    defaultText: "true",
    description:
      "Image URLs carry an expiring signature; `false` makes `/generated` URLs public as in the predecessor.",
  }),
  logLevel: spec({
    schema: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
    kind: "string",
    flag: "log-level",
    env: "CODEX_IMG_LOG_LEVEL",
    legacyEnv: ["LOG_LEVEL"],
    defaultText: "info",
    description: "Lowest level written to the JSON log on stdout.",
  }),
};

export type SettingKey = keyof typeof SETTINGS;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

type SettingsShape = { [K in SettingKey]: (typeof SETTINGS)[K]["schema"] };

function shapeOf(settings: typeof SETTINGS): SettingsShape {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, setting] of Object.entries(settings)) shape[key] = setting.schema;
  return shape as SettingsShape;
}

/** The schema of every setting with its default; input is already typed (see `coerceSetting`). */
export const configSchema = z.strictObject(shapeOf(SETTINGS));

type ParsedSettings = z.output<typeof configSchema>;

/** The server's configuration after every default, including the derived ones, is filled in. */
export type Config = Omit<ParsedSettings, "databaseUrl" | "basePath"> & {
  /** Absolute path. */
  dataDir: string;
  databaseUrl: string;
  basePath: string;
};

/** Every name a setting can be given by, for messages: `--port, CODEX_IMG_PORT, PORT`. */
export function settingNames(key: SettingKey): string[] {
  const setting: SettingSpec = SETTINGS[key];
  return [`--${setting.flag}`, setting.env, ...setting.legacyEnv];
}

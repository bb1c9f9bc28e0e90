import { z } from "zod";

/** How a raw string (flag or environment) becomes the value the schema checks. */
export type SettingKind = "string" | "integer" | "number" | "boolean";

/** One setting: its schema (with the default) and every name it can be given by. */
export interface SettingSpec<S extends z.ZodType = z.ZodType> {
  schema: S;
  kind: SettingKind;
  /** Command-line flag without the leading `--`. */
  flag: string;
  /** The codex-img name (`CODEX_IMG_*`); wins over `legacyEnv` when both are set. */
  env: string;
  /** Older names that keep working, in priority order: the predecessor's first, then common ones. */
  legacyEnv: readonly string[];
  unit?: string;
  /** Never printed, never echoed in an error; shown as "[set]" / "[not set]". */
  secret?: boolean;
  /** The default as the documentation states it (some are derived from other settings). */
  defaultText: string;
  description: string;
}

/** Declares one setting; the identity, so each entry of a settings table keeps its own schema type. */
export function spec<S extends z.ZodType>(value: SettingSpec<S>): SettingSpec<S> {
  return value;
}

export const BACKEND_CHOICES = ["auto", "codex-http", "codex-cli", "openai", "demo"] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export const CLI_SANDBOXES = ["read-only", "bypass"] as const;

export const httpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
  .transform((url) => url.replace(/\/+$/, ""));

export const positiveNumber = (max: number) =>
  z
    .number({ error: "must be a number" })
    .gt(0, { error: "must be greater than 0" })
    .max(max, { error: `must be at most ${max}` });

export const intRange = (min: number, max: number) =>
  z
    .int({ error: "must be a whole number" })
    .min(min, { error: `must be from ${min} to ${max}` })
    .max(max, { error: `must be from ${min} to ${max}` });

import type { SettingKind } from "./setting-spec.js";

export type Coerced = { ok: true; value: unknown } | { ok: false; message: string };

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/**
 * Turns what a flag, variable or config file gave into the type the schema checks. Strings from the
 * command line and the environment are converted; JSON values pass through for the schema to judge.
 * Messages never quote the value: it may be a secret.
 */
export function coerceSetting(kind: SettingKind, raw: unknown): Coerced {
  if (typeof raw !== "string") return { ok: true, value: raw };
  const text = raw.trim();
  switch (kind) {
    case "string":
      return { ok: true, value: raw };
    case "integer":
      return /^-?\d+$/.test(text)
        ? { ok: true, value: Number(text) }
        : { ok: false, message: "must be a whole number" };
    case "number":
      return text !== "" && Number.isFinite(Number(text))
        ? { ok: true, value: Number(text) }
        : { ok: false, message: "must be a number" };
    case "boolean": {
      const lower = text.toLowerCase();
      if (TRUE.has(lower)) return { ok: true, value: true };
      if (FALSE.has(lower)) return { ok: true, value: false };
      return { ok: false, message: "must be true or false (also 1/0, yes/no, on/off)" };
    }
  }
}

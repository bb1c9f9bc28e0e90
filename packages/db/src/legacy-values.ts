import { basename } from "node:path";
import type { ErrorCode, ImageQuality, ImageSize, JobState } from "@codex-img/core";

/**
 * Epoch ms from whatever the predecessor stored: epoch seconds, ms or µs (number or numeric string), or an
 * ISO-like string. Strings without a zone are read as UTC: Python's `datetime.utcnow().isoformat()` and
 * SQLite's `CURRENT_TIMESTAMP` both write UTC without saying so (an assumption; the predecessor's DDL is
 * not available).
 */
export function parseLegacyTimestamp(value: unknown): number | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  if (typeof value === "bigint") return parseLegacyTimestamp(Number(value));
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value <= 0) return undefined;
    if (value < 1e11) return Math.round(value * 1000);
    if (value < 1e14) return Math.round(value);
    return Math.round(value / 1000);
  }
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return parseLegacyTimestamp(Number(text));
  const match =
    /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(text);
  if (!match) return undefined;
  const [, date, time = "00:00:00", fraction = "", zone = "Z"] = match;
  // Python writes microseconds; JavaScript's parser is only specified for milliseconds.
  const ms = fraction ? fraction.slice(0, 4).padEnd(4, "0") : "";
  const offset = /^[+-]\d{4}$/.test(zone) ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone.toUpperCase();
  const parsed = Date.parse(`${date}T${time.length === 5 ? `${time}:00` : time}${ms}${offset}`);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** SQLite booleans as Python drivers left them: 0/1, "0"/"1", "true"/"false", "yes"/"no". */
export function parseLegacyBoolean(value: unknown): boolean | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "number" || typeof value === "bigint") return Number(value) !== 0;
  if (typeof value === "boolean") return value;
  const text = String(value).trim().toLowerCase();
  if (["1", "true", "t", "yes", "y", "on"].includes(text)) return true;
  if (["0", "false", "f", "no", "n", "off", ""].includes(text)) return false;
  return undefined;
}

export type LegacyStatus =
  | { kind: "final"; state: Extract<JobState, "succeeded" | "failed" | "canceled" | "expired"> }
  /** Left queued or running when the predecessor stopped: its in-memory queue died with it. */
  | { kind: "stuck"; running: boolean }
  | { kind: "unknown" };

export function mapLegacyStatus(value: unknown): LegacyStatus {
  const status = String(value ?? "")
    .trim()
    .toLowerCase();
  if (["succeeded", "success", "successful", "completed", "complete", "done", "ok"].includes(status)) {
    return { kind: "final", state: "succeeded" };
  }
  if (["failed", "failure", "error", "errored", "timeout", "timed_out"].includes(status)) {
    return { kind: "final", state: "failed" };
  }
  if (["canceled", "cancelled"].includes(status)) return { kind: "final", state: "canceled" };
  if (["expired", "deleted", "purged"].includes(status)) return { kind: "final", state: "expired" };
  if (["queued", "pending", "waiting"].includes(status)) return { kind: "stuck", running: false };
  if (["running", "processing", "in_progress", "started"].includes(status))
    return { kind: "stuck", running: true };
  return { kind: "unknown" };
}

/** The predecessor's errors were free text; pick the closest code so filters and charts work. */
export function legacyErrorCode(message: string): ErrorCode {
  if (/usage limit|quota|limit reached|rate limit/i.test(message)) return "quota_exhausted";
  if (/timed? ?out|timeout/i.test(message)) return "upstream_timeout";
  if (/login|auth\.json|unauthori[sz]ed|refresh token/i.test(message)) return "login_required";
  if (/invalid|must be|base64/i.test(message)) return "invalid_request";
  return "upstream_failed";
}

/** Paths as the predecessor stored them: one path, a JSON array (of strings or `{path|url}`), or a list. */
export function parseLegacyPaths(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  const text = String(value).trim();
  if (!text) return [];
  if (text.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) {
        return parsed.flatMap((item) => {
          if (typeof item === "string") return [item];
          if (item && typeof item === "object") {
            const record = item as Record<string, unknown>;
            const path = record.path ?? record.file ?? record.url ?? record.filename;
            return typeof path === "string" ? [path] : [];
          }
          return [];
        });
      }
    } catch {
      // Not JSON after all: fall through to the list forms.
    }
  }
  return text
    .split(/[\n,;]/)
    .map((part) => part.trim())
    .filter(Boolean);
}

/** Scopes a predecessor key had in effect: it could generate, edit, ask about images and poll its jobs. */
export const LEGACY_KEY_SCOPES: readonly string[] = ["generate", "edit", "vision", "jobs:read"];
/** The `origin` of keys and jobs brought in by `importLegacyDatabase`. */
export const LEGACY_ORIGIN = "legacy-import";

/** Predecessor ids that already look like ours (`img_3f81…`) are kept, so its callers' ids still resolve. */
export function legacyJobId(legacyId: string): string {
  return /^img_[A-Za-z0-9_-]{1,120}$/.test(legacyId) ? legacyId : `img_legacy_${sanitizeId(legacyId)}`;
}

export function sanitizeId(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 120) || "unknown";
}

export function legacySize(value: unknown): ImageSize {
  const text = String(value ?? "")
    .trim()
    .toLowerCase();
  if (text === "auto") return "auto";
  return /^\d{2,5}x\d{2,5}$/.test(text) ? (text as ImageSize) : "1024x1024";
}

export function legacyQuality(value: unknown): ImageQuality {
  const text = String(value ?? "")
    .trim()
    .toLowerCase();
  return text === "low" || text === "medium" || text === "high" || text === "auto" ? text : "medium";
}

/** The predecessor named accounts by their CODEX_HOME folder; codex-img labels them by the folder's name. */
export function legacyAccount(value: unknown): string | undefined {
  const text = stringOrUndefined(value);
  if (!text) return undefined;
  return text.includes("/") ? basename(text.replace(/\/+$/, "")) || text : text;
}

export function stringOrUndefined(value: unknown): string | undefined {
  if (value === null || value === undefined || value === false) return undefined;
  const text = String(value).trim();
  return text ? text : undefined;
}

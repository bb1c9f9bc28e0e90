import { CodexImgError } from "@codex-img/core";
import { KEY_SCOPES, type KeyLimits, type KeyScope } from "./api-key-record.js";

/** A key's name, trimmed: 1 to 100 characters (`invalid_request`, param `name`, otherwise). */
export function checkKeyName(name: string): string {
  const trimmed = typeof name === "string" ? name.trim() : "";
  if (trimmed.length === 0 || trimmed.length > 100) {
    throw new CodexImgError("invalid_request", "A key name must be 1 to 100 characters.", {
      details: { param: "name" },
    });
  }
  return trimmed;
}

/** Known scopes only, at least one, in `KEY_SCOPES` order. */
export function checkKeyScopes(scopes: readonly string[]): KeyScope[] {
  if (!Array.isArray(scopes) || scopes.length === 0) {
    throw new CodexImgError("invalid_request", "A key needs at least one scope.", {
      details: { param: "scopes" },
    });
  }
  for (const scope of scopes) {
    if (!(KEY_SCOPES as readonly string[]).includes(scope)) {
      throw new CodexImgError("invalid_request", `Unknown scope ${JSON.stringify(scope)}.`, {
        details: { param: "scopes" },
      });
    }
  }
  return KEY_SCOPES.filter((scope) => scopes.includes(scope));
}

/** Each limit a positive integer or null. */
export function checkKeyLimits(limits: KeyLimits): KeyLimits {
  for (const [name, value] of Object.entries(limits)) {
    if (value !== null && (!Number.isSafeInteger(value) || value < 1)) {
      throw new CodexImgError("invalid_request", `${name} must be a positive integer or null.`, {
        details: { param: name },
      });
    }
  }
  return {
    requestsPerMinute: limits.requestsPerMinute,
    imagesPerDay: limits.imagesPerDay,
    imagesPerMonth: limits.imagesPerMonth,
    visionPerDay: limits.visionPerDay,
    visionPerMonth: limits.visionPerMonth,
    maxConcurrentJobs: limits.maxConcurrentJobs,
  };
}

export function checkKeyExpiry(expiresAt: number | null): number | null {
  if (expiresAt !== null && !Number.isSafeInteger(expiresAt)) {
    throw new CodexImgError("invalid_request", "expiresAt must be epoch milliseconds or null.", {
      details: { param: "expiresAt" },
    });
  }
  return expiresAt;
}

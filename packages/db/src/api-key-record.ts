import type { apiKeys } from "./schema/keys.js";

export const KEY_SCOPES = ["generate", "edit", "vision", "jobs:read", "admin"] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

/** Per-key limits; `null` (or absent) = unlimited. All are positive integers. */
export interface KeyLimits {
  requestsPerMinute: number | null;
  imagesPerDay: number | null;
  imagesPerMonth: number | null;
  /** Vision requests (questions about images) per UTC day and month; images per day/month do not count them. */
  visionPerDay: number | null;
  visionPerMonth: number | null;
  maxConcurrentJobs: number | null;
}

/** A key as callers of the store see it: never the hash, never the raw key. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** First characters of the raw key, for display (`cimg_3f8aZq…`). */
  prefix: string;
  scopes: KeyScope[];
  enabled: boolean;
  /** Epoch ms; null = never expires. */
  expiresAt: number | null;
  limits: KeyLimits;
  createdAt: number;
  lastUsedAt: number | null;
  /** Epoch ms of the last rotation; null when never rotated. */
  rotatedAt: number | null;
  /** `created` or `legacy-import`. */
  origin: string;
}

type KeyRow = typeof apiKeys.$inferSelect;

/** A key without limits. */
export const NO_KEY_LIMITS: KeyLimits = {
  requestsPerMinute: null,
  imagesPerDay: null,
  imagesPerMonth: null,
  visionPerDay: null,
  visionPerMonth: null,
  maxConcurrentJobs: null,
};

/** A row of `api_keys` as callers of the store see it (no hash); unknown scopes are dropped. */
export function apiKeyRecord(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: (row.scopes ?? []).filter((s): s is KeyScope => (KEY_SCOPES as readonly string[]).includes(s)),
    enabled: row.enabled,
    expiresAt: row.expiresAt,
    limits: keyLimitsOf(row),
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    rotatedAt: row.rotatedAt,
    origin: row.origin,
  };
}

export function keyLimitsOf(row: KeyRow): KeyLimits {
  return {
    requestsPerMinute: row.requestsPerMinute,
    imagesPerDay: row.imagesPerDay,
    imagesPerMonth: row.imagesPerMonth,
    visionPerDay: row.visionPerDay,
    visionPerMonth: row.visionPerMonth,
    maxConcurrentJobs: row.maxConcurrentJobs,
  };
}

import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Bearer keys (`cimg_…`). Only the SHA-256 of a key is stored (hex, as the predecessor did, so its keys
 * keep working after import); the raw key is shown once at creation. Limits are null when unlimited.
 */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** SHA-256 hex of the whole raw key. */
    hash: text("hash").notNull().unique(),
    /** First characters of the raw key for display (`cimg_3f8a…`). */
    prefix: text("prefix").notNull(),
    /** JSON array of scopes: generate, edit, vision, jobs:read, admin. */
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    /** Epoch ms; null = never expires. */
    expiresAt: integer("expires_at"),
    requestsPerMinute: integer("requests_per_minute"),
    imagesPerDay: integer("images_per_day"),
    imagesPerMonth: integer("images_per_month"),
    /** Questions about images (vision requests) per UTC day / month, counted apart from images. */
    visionPerDay: integer("vision_per_day"),
    visionPerMonth: integer("vision_per_month"),
    maxConcurrentJobs: integer("max_concurrent_jobs"),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    /** Epoch ms of the last rotation (the hash is replaced in place, so the id never changes). */
    rotatedAt: integer("rotated_at"),
    /** Lineage from elsewhere (for example an imported key that replaced another); rotation keeps the id instead. */
    rotatedFrom: text("rotated_from"),
    /** Where the key came from: `created` or `legacy-import`. */
    origin: text("origin").notNull().default("created"),
  },
  (t) => [index("api_keys_created_at").on(t.createdAt)],
);

/** Admin sessions, server-side so that logout and expiry really end them. Tokens are stored hashed. */
export const adminSessions = sqliteTable(
  "admin_sessions",
  {
    /** SHA-256 hex of the session token in the cookie. */
    id: text("id").primaryKey(),
    /** SHA-256 hex of the CSRF token bound to the session. */
    csrfHash: text("csrf_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
    ip: text("ip"),
    userAgent: text("user_agent"),
  },
  (t) => [index("admin_sessions_expires_at").on(t.expiresAt)],
);

/** Who did what to which key, account or setting, when and from where. Append-only. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at").notNull(),
    /** `admin`, `key:<id>` or `system`. */
    actor: text("actor").notNull(),
    /** Dotted verb: `key.create`, `key.disable`, `account.refresh`, `settings.update`, `auth.login_failed`, … */
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>(),
    ip: text("ip"),
    userAgent: text("user_agent"),
  },
  // Pages go newest first by id (the rowid, which every index carries), so the filter indexes end there.
  (t) => [
    index("audit_log_at").on(t.at),
    index("audit_log_action").on(t.action),
    index("audit_log_target").on(t.targetType, t.targetId),
  ],
);

/** Settings changed at run time (dispatch mode, retention, the 48 h wall, …): JSON per name. */
export const settings = sqliteTable("settings", {
  name: text("name").primaryKey(),
  value: text("value", { mode: "json" }).$type<unknown>().notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Counters that must hold across instances (requests per minute, images per day and month per key):
 * one row per scope and window, incremented with a guarded atomic update.
 */
export const usageCounters = sqliteTable(
  "usage_counters",
  {
    /** e.g. `key:<id>:images` or `key:<id>:requests`. */
    scope: text("scope").notNull(),
    /** e.g. `day:2026-11-22`, `month:2026-11`, `minute:29123456`. */
    window: text("window").notNull(),
    count: integer("count").notNull().default(0),
    /** Epoch ms after which the row may be swept. */
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.window] }), index("usage_counters_expires_at").on(t.expiresAt)],
);

import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** The newest quota snapshot per account (from reply headers or the usage poll), kept across restarts. */
export const accountQuota = sqliteTable("account_quota", {
  label: text("label").primaryKey(),
  observedAt: integer("observed_at").notNull(),
  primaryUsedPercent: integer("primary_used_percent"),
  primaryWindowMinutes: integer("primary_window_minutes"),
  primaryResetsAt: integer("primary_resets_at"),
  secondaryUsedPercent: integer("secondary_used_percent"),
  secondaryWindowMinutes: integer("secondary_window_minutes"),
  secondaryResetsAt: integer("secondary_resets_at"),
  planType: text("plan_type"),
  /** The whole `QuotaSnapshot` as JSON. */
  snapshot: text("snapshot", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
});

/** Per-day counters per key and account, for usage charts without scanning the history. */
export const usageDaily = sqliteTable(
  "usage_daily",
  {
    /** UTC day, `YYYY-MM-DD`. */
    day: text("day").notNull(),
    /** `''` when no key (admin playground). */
    keyId: text("key_id").notNull().default(""),
    /** `''` when no account (demo, openai). */
    account: text("account").notNull().default(""),
    requests: integer("requests").notNull().default(0),
    succeeded: integer("succeeded").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    images: integer("images").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.day, t.keyId, t.account] }),
    index("usage_daily_account").on(t.account, t.day),
  ],
);

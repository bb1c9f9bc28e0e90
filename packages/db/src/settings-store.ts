import { type Clock, CodexImgError, type DispatchMode, isDispatchMode, systemClock } from "@codex-img/core";
import { eq, inArray } from "drizzle-orm";
import type { Database } from "./create-db.js";
import { createLibsqlSession } from "./libsql-session.js";
import { settings } from "./schema/keys.js";

/** The rolling-window image wall of the dashboard's usage alert (predecessor: 320 images per 48 h). */
export interface UsageWallSetting {
  /** Successful images per account per window. Default 320. */
  limit: number;
  /** Rolling window in hours. Default 48. */
  windowHours: number;
  /** Amber from this share of `limit`. Default 70. */
  warnPercent: number;
  /** Red from this share of `limit`. Default 90. */
  dangerPercent: number;
}

/** Settings changeable at run time from the dashboard. Configuration read at start stays in apps/server. */
export interface Settings {
  /** How the account pool picks an account. Default `quota-aware`. */
  dispatchMode: DispatchMode;
  /** Days before a job's images expire and its row turns `expired`. Default 7. */
  retentionDays: number;
  /** Hours between retention sweeps. Default 6. */
  cleanupIntervalHours: number;
  usageWall: UsageWallSetting;
}

export type SettingName = keyof Settings;

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  dispatchMode: "quota-aware",
  retentionDays: 7,
  cleanupIntervalHours: 6,
  usageWall: Object.freeze({ limit: 320, windowHours: 48, warnPercent: 70, dangerPercent: 90 }),
});

/** Each setting's validator: the value if acceptable, else undefined. */
const PARSERS: { [K in SettingName]: (value: unknown) => Settings[K] | undefined } = {
  dispatchMode: (value) => (isDispatchMode(value) ? value : undefined),
  retentionDays: (value) => (isIntIn(value, 1, 3650) ? value : undefined),
  cleanupIntervalHours: (value) => (isIntIn(value, 1, 24 * 7) ? value : undefined),
  usageWall: (value) => {
    if (typeof value !== "object" || value === null) return undefined;
    const v = value as Record<string, unknown>;
    const wall = {
      limit: v.limit,
      windowHours: v.windowHours ?? DEFAULT_SETTINGS.usageWall.windowHours,
      warnPercent: v.warnPercent,
      dangerPercent: v.dangerPercent,
    };
    if (
      isIntIn(wall.limit, 1, 1_000_000) &&
      isIntIn(wall.windowHours, 1, 24 * 31) &&
      isIntIn(wall.warnPercent, 1, 100) &&
      isIntIn(wall.dangerPercent, 1, 100) &&
      wall.warnPercent <= wall.dangerPercent
    ) {
      return {
        limit: wall.limit,
        windowHours: wall.windowHours,
        warnPercent: wall.warnPercent,
        dangerPercent: wall.dangerPercent,
      };
    }
    return undefined;
  },
};

export const SETTING_NAMES: readonly SettingName[] = Object.keys(DEFAULT_SETTINGS) as SettingName[];

export interface SettingsStore {
  /**
   * The stored value, or the default when unset (or stored by a version whose value no longer parses):
   * the store's `defaults` option, else `DEFAULT_SETTINGS`.
   */
  get<K extends SettingName>(name: K): Promise<Settings[K]>;
  getAll(): Promise<Settings>;
  /** Throws `invalid_request` (param = the name) for an unknown name or a value out of range. */
  set<K extends SettingName>(name: K, value: Settings[K]): Promise<Settings[K]>;
  /** Back to the default. */
  reset(name: SettingName): Promise<void>;
}

export interface SettingsStoreOptions {
  clock?: Pick<Clock, "now">;
  /**
   * What an unset setting reads as, over `DEFAULT_SETTINGS`: the server's configuration (environment,
   * flags, config file). A value saved from the dashboard overrides it until `reset`.
   */
  defaults?: Partial<Settings>;
}

export function createSettingsStore(database: Database, options: SettingsStoreOptions = {}): SettingsStore {
  const { db } = database;
  const session = createLibsqlSession(database);
  const clock = options.clock ?? systemClock;
  const defaults: Settings = {
    ...structuredClone(DEFAULT_SETTINGS),
    ...structuredClone(options.defaults ?? {}),
  };

  function parse<K extends SettingName>(name: K, value: unknown): Settings[K] | undefined {
    return (PARSERS[name] as (value: unknown) => Settings[K] | undefined)(value);
  }

  return {
    async get(name) {
      const row = await db.query.settings.findFirst({ where: eq(settings.name, name) });
      return (row ? parse(name, row.value) : undefined) ?? structuredClone(defaults[name]);
    },

    async getAll() {
      const rows = await db
        .select()
        .from(settings)
        .where(inArray(settings.name, [...SETTING_NAMES]));
      const out = structuredClone(defaults);
      for (const row of rows) {
        const name = row.name as SettingName;
        const value = parse(name, row.value);
        if (value !== undefined) (out as unknown as Record<string, unknown>)[name] = value;
      }
      return out;
    },

    async set(name, value) {
      if (!SETTING_NAMES.includes(name)) {
        throw new CodexImgError("invalid_request", `Unknown setting ${JSON.stringify(name)}.`, {
          details: { param: name },
        });
      }
      const parsed = parse(name, value);
      if (parsed === undefined) {
        throw new CodexImgError("invalid_request", `Invalid value for setting ${name}.`, {
          details: { param: name },
        });
      }
      const updatedAt = clock.now();
      await session.exclusive(() =>
        db
          .insert(settings)
          .values({ name, value: parsed, updatedAt })
          .onConflictDoUpdate({ target: settings.name, set: { value: parsed, updatedAt } }),
      );
      return parsed;
    },

    async reset(name) {
      await session.exclusive(() => db.delete(settings).where(eq(settings.name, name)));
    },
  };
}

function isIntIn(value: unknown, min: number, max: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

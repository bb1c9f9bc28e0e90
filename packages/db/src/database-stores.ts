import type { Clock } from "@codex-img/core";
import { type AccountUsage, createAccountUsage } from "./account-usage.js";
import { type AuditLog, createAuditLog } from "./audit-log.js";
import type { Database } from "./create-db.js";
import { createKeyStore, type KeyStore } from "./key-store.js";
import { createSessionStore, type SessionStore } from "./session-store.js";
import { createSettingsStore, type Settings, type SettingsStore } from "./settings-store.js";
import { createUsageCounters, type UsageCounters } from "./usage-counters.js";

/** Every store that lives on the database besides the job store, built one way for every caller. */
export interface DatabaseStores {
  keys: KeyStore;
  counters: UsageCounters;
  audit: AuditLog;
  settings: SettingsStore;
  sessions: SessionStore;
  accountUsage: AccountUsage;
}

export function createDatabaseStores(
  database: Database,
  options: { clock?: Clock; settingsDefaults?: Partial<Settings> } = {},
): DatabaseStores {
  const clock = options.clock ? { clock: options.clock } : {};
  return {
    keys: createKeyStore(database, clock),
    counters: createUsageCounters(database),
    audit: createAuditLog(database, clock),
    settings: createSettingsStore(database, {
      ...clock,
      ...(options.settingsDefaults ? { defaults: options.settingsDefaults } : {}),
    }),
    sessions: createSessionStore(database, clock),
    accountUsage: createAccountUsage(database),
  };
}

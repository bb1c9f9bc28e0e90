/** @codex-img/db: codex-img's persistence on libSQL. */

export * from "./account-usage.js";
export { type ApiKeyRecord, KEY_SCOPES, type KeyLimits, type KeyScope } from "./api-key-record.js";
export * from "./audit-log.js";
export * from "./create-db.js";
export * from "./database-stores.js";
export * from "./delete-job.js";
export * from "./expire-jobs.js";
export * from "./history.js";
export * from "./import-legacy.js";
export * from "./key-store.js";
export { LEGACY_KEY_SCOPES, LEGACY_ORIGIN, legacyJobId, parseLegacyTimestamp } from "./legacy-values.js";
export * from "./libsql-job-store.js";
export {
  createLibsqlSession,
  type LibsqlSession,
  RollbackWrite,
  writeTransactionCount,
} from "./libsql-session.js";
export * from "./random-token.js";
export * from "./schema/index.js";
export * from "./session-store.js";
export * from "./settings-store.js";
export * from "./sha256-hex.js";
export * from "./sweep-orphan-files.js";
export * from "./usage-counters.js";
export * from "./usage-windows.js";
export * from "./with-busy-retry.js";

import type { AccountPool, BackendKind, Clock, ImageStore, JobQueue, Logger } from "@codex-img/core";
import type {
  AccountUsage,
  AuditLog,
  Database,
  KeyStore,
  SessionStore,
  SettingsStore,
  UsageCounters,
} from "@codex-img/db";

/** Settings of the HTTP surface; apps/server fills them from its configuration. */
export interface ApiOptions {
  /** Absolute base of URLs in replies, without a trailing slash, e.g. `https://img.example.com`. */
  publicBaseUrl: string;
  /** How long synchronous endpoints wait for a job before answering 202 with its id, ms. */
  requestWaitTimeoutMs: number;
  /** How long generated images are kept, ms; image URLs carry the resulting `expires_at`. */
  imageRetentionMs: number;
  /** Largest request body accepted, bytes (reference images are base64 or multipart). */
  maxBodyBytes: number;
  /** The server's version, for `/health` and `/openapi.json`. */
  version: string;
}

/**
 * Everything the handlers use, built once by the composition root (apps/server). Handlers never open
 * connections or read the environment themselves.
 */
export interface ApiServices {
  database: Database;
  queue: JobQueue;
  images: ImageStore;
  keys: KeyStore;
  counters: UsageCounters;
  audit: AuditLog;
  settings: SettingsStore;
  sessions: SessionStore;
  accountUsage: AccountUsage;
  /** The account pool, when the backend uses Codex logins. */
  pool?: AccountPool;
  /** Which backend the workers run (`demo` is labelled as such in replies). */
  backend: BackendKind;
  /** Wakes idle workers after a job was enqueued. */
  wakeWorkers(): void;
  clock: Clock;
  logger: Logger;
  options: ApiOptions;
}

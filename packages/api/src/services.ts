import type {
  AccountPool,
  BackendKind,
  Clock,
  CodexHomeStatus,
  ImageStore,
  JobQueue,
  Logger,
} from "@codex-img/core";
import type { Database, DatabaseStores } from "@codex-img/db";
import type { CleanupReport } from "./services/admin-views.js";

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
  /** Request body bytes in flight across the server before new requests get `server_busy`. Default 256 MiB. */
  requestBudgetBytes?: number;
  /**
   * Floor rate of a request body in bytes per second, after `bodyGraceMs`; a slower body is cut with
   * `body_timeout`. Default 16 KiB/s.
   */
  minBodyBytesPerSecond?: number;
  /** Time a request body may take before the floor rate applies, ms. Default 10 s. */
  bodyGraceMs?: number;
  /** The server's version, for `/health` and `/openapi.json`. */
  version: string;
  /**
   * The dashboard's admin password. Absent or empty: admin login is refused (apps/server also refuses to
   * listen beyond loopback without one).
   */
  adminPassword?: string;
  /**
   * Mark the admin cookie `Secure`. Default: when the request is https, or when `trustProxy` is set and
   * `X-Forwarded-Proto` says https.
   */
  secureCookies?: boolean;
  /**
   * Believe `X-Forwarded-For` / `X-Forwarded-Proto` (only behind a reverse proxy that sets them). Default
   * false: the client address is then unknown to a fetch handler and login throttling counts all direct
   * clients together.
   */
  trustProxy?: boolean;
  /**
   * Sign image URLs (`?expires=&sig=`, HMAC-SHA256) and refuse unsigned ones at `/generated`. Default
   * false: URLs are public by their unguessable key, as in the predecessor. Needs `urlSigningSecret`.
   */
  signedUrls?: boolean;
  /** Secret of the URL signatures, 16+ characters; changing it invalidates every URL handed out. */
  urlSigningSecret?: string;
  /**
   * How long the dashboard's live overview (`system.live`) waits for a job change before reading again
   * anyway, ms: changes made by other instances, and states that move with time alone (a cooldown ending),
   * show up within this. Default 5 s.
   */
  liveOverviewRereadMs?: number;
  /**
   * Serve `/metrics` without a key (for a scraper on a private network). Default false: a bearer key with
   * the `admin` scope is required, since the labels name accounts and keys.
   */
  metricsPublic?: boolean;
}

/**
 * Everything the handlers use, built once by the composition root (apps/server): the database's stores
 * (`createDatabaseStores`) plus the queue, the images and the rest. Handlers never open connections or
 * read the environment themselves.
 */
export interface ApiServices extends DatabaseStores {
  database: Database;
  queue: JobQueue;
  images: ImageStore;
  /** The account pool, when the backend uses Codex logins. */
  pool?: AccountPool;
  /** Which backend the workers run (`demo` is labelled as such in replies). */
  backend: BackendKind;
  /** Wakes idle workers after a job was enqueued. */
  wakeWorkers(): void;
  /**
   * The Codex login behind each account, by label, read without refreshing (for the dashboard's token
   * freshness). Absent when the accounts are not Codex homes.
   */
  accountLogins?(): Promise<Record<string, CodexHomeStatus>>;
  /** One retention pass now (the dashboard's "run cleanup now"); absent when the host runs none. */
  runCleanup?(): Promise<CleanupReport>;
  clock: Clock;
  logger: Logger;
  options: ApiOptions;
}

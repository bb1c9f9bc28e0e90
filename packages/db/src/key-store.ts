import { type Clock, CodexImgError, systemClock } from "@codex-img/core";
import { desc, eq, sql } from "drizzle-orm";
import {
  type ApiKeyRecord,
  apiKeyRecord,
  type KeyLimits,
  type KeyScope,
  keyLimitsOf,
  NO_KEY_LIMITS,
} from "./api-key-record.js";
import type { Database } from "./create-db.js";
import { checkKeyExpiry, checkKeyLimits, checkKeyName, checkKeyScopes } from "./key-input-checks.js";
import { createLibsqlSession } from "./libsql-session.js";
import { randomId, randomToken } from "./random-token.js";
import { apiKeys } from "./schema/keys.js";
import { sha256Hex } from "./sha256-hex.js";

/** Every raw key starts with this, as the predecessor's did. */
export const RAW_KEY_PREFIX = "cimg_";
/** How many characters of the raw key are kept for display (`cimg_` + 7). */
export const KEY_DISPLAY_PREFIX_LENGTH = 12;
/** `touch` writes at most once per this many ms per key, so authenticating is not a write per request. */
export const KEY_TOUCH_INTERVAL_MS = 60_000;
/**
 * How long a verified key is trusted from memory before the database is asked again. This is how late
 * another instance's disable, rotate or delete can take effect here; changes made through this store
 * apply at once (its cache is cleared). Expiry is checked on every call.
 */
export const KEY_CACHE_MS = 2_000;

export interface CreateKeyInput {
  name: string;
  scopes: readonly KeyScope[];
  expiresAt?: number | null;
  limits?: Partial<KeyLimits>;
}

export interface UpdateKeyPatch {
  name?: string;
  scopes?: readonly KeyScope[];
  /** `null` removes the expiry. */
  expiresAt?: number | null;
  limits?: Partial<KeyLimits>;
}

/** Why `verify` refused a key; in `CodexImgError.details.reason`. */
export type KeyRefusalReason = "malformed" | "unknown_key" | "disabled" | "expired";

export interface KeyStore {
  /** The raw key is returned here once and never again; only its SHA-256 is stored. */
  create(input: CreateKeyInput): Promise<{ key: ApiKeyRecord; rawKey: string }>;
  /**
   * Throws `unauthorized` with `details.reason` (a `KeyRefusalReason`) when the key may not be used. The
   * record is frozen: the same object serves every request of the key while it is cached.
   */
  verify(rawKey: string): Promise<ApiKeyRecord>;
  /** Newest first. */
  list(): Promise<ApiKeyRecord[]>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Throws `not_found` for an unknown id, `invalid_request` for a bad name, scope or limit. */
  update(id: string, patch: UpdateKeyPatch): Promise<ApiKeyRecord>;
  setEnabled(id: string, enabled: boolean): Promise<ApiKeyRecord>;
  /** A new raw key for the same id (history, limits and counters stay); the old raw key stops working at once. */
  rotate(id: string): Promise<{ key: ApiKeyRecord; rawKey: string }>;
  /** Removes the key; its jobs keep `key_id` and `key_name`. Returns false when there was no such key. */
  delete(id: string): Promise<boolean>;
  /** Records use; writes at most once per `KEY_TOUCH_INTERVAL_MS` per key. */
  touch(id: string, now?: number): Promise<void>;
}

export interface KeyStoreOptions {
  clock?: Pick<Clock, "now">;
  /** Default `KEY_CACHE_MS`; 0 turns the cache off. */
  cacheMs?: number;
}

type KeyRow = typeof apiKeys.$inferSelect;

/**
 * API keys in `api_keys`. Rotation replaces the hash in place (the id never changes) so jobs, usage
 * counters and audit entries keep pointing at the same key; `rotated_from` is left for imported
 * lineage and is not used by rotation.
 */
export function createKeyStore(database: Database, options: KeyStoreOptions = {}): KeyStore {
  const { db } = database;
  const session = createLibsqlSession(database);
  const clock = options.clock ?? systemClock;
  const cacheMs = options.cacheMs ?? KEY_CACHE_MS;
  // Authentication runs on every request: verified rows by hash with the record handed out for them
  // (frozen, made once per cache entry rather than per request), and the last touch per key, in memory.
  const verified = new Map<string, { row: KeyRow; record: ApiKeyRecord; until: number }>();
  const touched = new Map<string, number>();
  const changed = <T>(result: T): T => {
    verified.clear();
    return result;
  };

  async function findByHash(hash: string): Promise<{ row: KeyRow; record: ApiKeyRecord } | undefined> {
    const now = clock.now();
    const cached = verified.get(hash);
    if (cached && cached.until > now) return cached;
    const row = await db.query.apiKeys.findFirst({ where: eq(apiKeys.hash, hash) });
    if (!row) {
      verified.delete(hash);
      return undefined;
    }
    const found = { row, record: frozenRecord(row), until: now + cacheMs };
    // Bounded by the number of keys, which stays small; stale entries are replaced on the next use.
    verified.set(hash, found);
    return found;
  }

  async function mustGet(id: string): Promise<KeyRow> {
    const row = await db.query.apiKeys.findFirst({ where: eq(apiKeys.id, id) });
    if (!row) throw new CodexImgError("not_found", `No API key ${id}.`);
    return row;
  }

  return {
    async create(input) {
      const name = checkKeyName(input.name);
      const scopes = checkKeyScopes(input.scopes);
      const limits = checkKeyLimits({ ...NO_KEY_LIMITS, ...input.limits });
      const expiresAt = checkKeyExpiry(input.expiresAt ?? null);
      const rawKey = newRawKey();
      const row: typeof apiKeys.$inferInsert = {
        id: randomId("key"),
        name,
        hash: await sha256Hex(rawKey),
        prefix: rawKey.slice(0, KEY_DISPLAY_PREFIX_LENGTH),
        scopes,
        enabled: true,
        expiresAt,
        ...limits,
        createdAt: clock.now(),
        origin: "created",
      };
      const [inserted] = await session.exclusive(() => db.insert(apiKeys).values(row).returning());
      return { key: apiKeyRecord(inserted as KeyRow), rawKey };
    },

    async verify(rawKey) {
      if (
        typeof rawKey !== "string" ||
        !rawKey.startsWith(RAW_KEY_PREFIX) ||
        rawKey.length <= RAW_KEY_PREFIX.length
      ) {
        throw refusal("malformed", "The API key is not a codex-img key (cimg_…).");
      }
      const found = await findByHash(await sha256Hex(rawKey));
      if (!found) throw refusal("unknown_key", "The API key is not valid.");
      const { row, record } = found;
      if (!row.enabled) throw refusal("disabled", "The API key is disabled.", row.id);
      if (row.expiresAt !== null && row.expiresAt <= clock.now()) {
        throw refusal("expired", "The API key has expired.", row.id);
      }
      return record;
    },

    async list() {
      const rows = await db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
      return rows.map(apiKeyRecord);
    },

    async get(id) {
      const row = await db.query.apiKeys.findFirst({ where: eq(apiKeys.id, id) });
      return row ? apiKeyRecord(row) : undefined;
    },

    async update(id, patch) {
      const current = await mustGet(id);
      const set: Partial<typeof apiKeys.$inferInsert> = {};
      if (patch.name !== undefined) set.name = checkKeyName(patch.name);
      if (patch.scopes !== undefined) set.scopes = checkKeyScopes(patch.scopes);
      if (patch.expiresAt !== undefined) set.expiresAt = checkKeyExpiry(patch.expiresAt);
      if (patch.limits !== undefined)
        Object.assign(set, checkKeyLimits({ ...keyLimitsOf(current), ...patch.limits }));
      if (Object.keys(set).length === 0) return apiKeyRecord(current);
      const [row] = await session.exclusive(() =>
        db.update(apiKeys).set(set).where(eq(apiKeys.id, id)).returning(),
      );
      if (!row) throw new CodexImgError("not_found", `No API key ${id}.`);
      return changed(apiKeyRecord(row));
    },

    async setEnabled(id, enabled) {
      const [row] = await session.exclusive(() =>
        db.update(apiKeys).set({ enabled }).where(eq(apiKeys.id, id)).returning(),
      );
      if (!row) throw new CodexImgError("not_found", `No API key ${id}.`);
      return changed(apiKeyRecord(row));
    },

    async rotate(id) {
      const rawKey = newRawKey();
      const hash = await sha256Hex(rawKey);
      const [row] = await session.exclusive(() =>
        db
          .update(apiKeys)
          .set({
            hash,
            prefix: rawKey.slice(0, KEY_DISPLAY_PREFIX_LENGTH),
            rotatedAt: clock.now(),
          })
          .where(eq(apiKeys.id, id))
          .returning(),
      );
      if (!row) throw new CodexImgError("not_found", `No API key ${id}.`);
      return changed({ key: apiKeyRecord(row), rawKey });
    },

    async delete(id) {
      const deleted = await session.exclusive(() =>
        db.delete(apiKeys).where(eq(apiKeys.id, id)).returning({ id: apiKeys.id }),
      );
      return changed(deleted.length > 0);
    },

    async touch(id, now = clock.now()) {
      // Skipped in memory within the interval, and guarded in SQL for other instances, so that a busy
      // key costs one write a minute, not one per request.
      const last = touched.get(id);
      if (last !== undefined && now - last < KEY_TOUCH_INTERVAL_MS && now >= last) return;
      touched.set(id, now);
      await session.exclusive(() =>
        db
          .update(apiKeys)
          .set({ lastUsedAt: now })
          .where(
            sql`${apiKeys.id} = ${id} AND (${apiKeys.lastUsedAt} IS NULL OR ${apiKeys.lastUsedAt} <= ${now - KEY_TOUCH_INTERVAL_MS})`,
          ),
      );
    },
  };
}

/** `cimg_` + 43 base64url characters (256 random bits). */
function newRawKey(): string {
  return `${RAW_KEY_PREFIX}${randomToken(32)}`;
}

function refusal(reason: KeyRefusalReason, message: string, keyId?: string): CodexImgError {
  return new CodexImgError("unauthorized", message, { details: { reason, ...(keyId ? { keyId } : {}) } });
}

/** The record `verify` hands to every request of the key while it is cached: shared, so frozen. */
function frozenRecord(row: KeyRow): ApiKeyRecord {
  const record = apiKeyRecord(row);
  Object.freeze(record.scopes);
  Object.freeze(record.limits);
  return Object.freeze(record);
}

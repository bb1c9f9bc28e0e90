import { CodexImgError } from "@codex-img/core";
import type { Client, Transaction } from "@libsql/client";
import type { Database } from "./create-db.js";
import { type BusyRetryOptions, withBusyRetry } from "./with-busy-retry.js";

/**
 * How every store reaches the database: writes of one process queue on one lock per client (SQLite has a
 * single writer), each write transaction is retried as a whole on SQLITE_BUSY, and errors leave as
 * `CodexImgError` without SQL text or paths.
 */
export interface LibsqlSession {
  /**
   * Runs `work` in a write transaction and commits; the whole transaction is repeated on SQLITE_BUSY.
   * Throw `new RollbackWrite(value)` from `work` to roll back and return `value`.
   */
  write<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /**
   * Runs a single-statement write (for example a Drizzle insert) under the same write lock, retried on
   * SQLITE_BUSY. Prefer `write` for anything that must be atomic across statements.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** Runs a read. Reads are single statements, so each is its own consistent snapshot. */
  read<T>(work: (client: Client) => Promise<T>): Promise<T>;
}

/** Thrown inside `write` to roll the transaction back and return `value` instead of committing. */
export class RollbackWrite<T> {
  constructor(readonly value: T) {}
}

const TAKE_WRITE_LOCK = "UPDATE jobs SET state = state WHERE 0";

type Lock = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * One lock per client, not per store: SQLite has a single writer, so write transactions of one process
 * queue here instead of each taking a pool connection and colliding on the file lock. Keyed weakly so a
 * closed client's lock goes with it.
 */
const writeLocks = new WeakMap<Client, Lock>();

/** Committed write transactions per client, for `/metrics` (`writeTransactionCount`). */
const committedWrites = new WeakMap<Client, number>();

/**
 * Write transactions this process committed on `database` (a `write` or an `exclusive` statement; a
 * transaction repeated after SQLITE_BUSY counts once). What a job's lifecycle costs, read at scrape time.
 */
export function writeTransactionCount(database: Database): number {
  return committedWrites.get(database.client) ?? 0;
}

export function createLibsqlSession(database: Database, busy: BusyRetryOptions = {}): LibsqlSession {
  const { client } = database;
  let lock = writeLocks.get(client);
  if (!lock) {
    lock = createLock();
    writeLocks.set(client, lock);
  }
  const writeLock = lock;
  const committed = (): void => {
    committedWrites.set(client, (committedWrites.get(client) ?? 0) + 1);
  };
  // `:memory:` and embedded replicas have one connection, which an open transaction holds: reads must
  // wait for it. A local file (a pool of connections, WAL) and remote databases read concurrently.
  const readsQueue = client.protocol === "file" && !database.local;

  const begin = async (): Promise<Transaction> => {
    // Remote: the server's write transaction. A local file (`createLocalClient`): `BEGIN IMMEDIATE` runs
    // through the driver's `exec`, which finalizes the statement whatever happens, and a connection that
    // met an error is discarded, so one statement takes the write lock with nothing left behind.
    if (client.protocol !== "file" || database.local) return client.transaction("write");
    // Not `BEGIN IMMEDIATE` through `@libsql/client` (`:memory:`, embedded replicas): when it meets
    // SQLITE_BUSY, libsql leaves that statement
    // un-reset on the pooled connection, and every later COMMIT there fails with "SQL statements in
    // progress" until the garbage collector finalizes it. `executeMultiple` runs through sqlite3_exec,
    // which finalizes the statement whatever happens, so a busy answer leaves the connection clean. The
    // statement writes nothing but takes the write lock at once, as IMMEDIATE would.
    const tx = await client.transaction("deferred");
    try {
      await tx.executeMultiple(TAKE_WRITE_LOCK);
      return tx;
    } catch (error) {
      tx.close();
      throw error;
    }
  };

  return {
    write<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
      return writeLock(() =>
        guard(() =>
          withBusyRetry(async () => {
            const tx = await begin();
            try {
              const result = await work(tx);
              await tx.commit();
              committed();
              return result;
            } catch (error) {
              if (error instanceof RollbackWrite) return error.value as T;
              throw error;
            } finally {
              tx.close();
            }
          }, busy),
        ),
      );
    },
    exclusive(work) {
      return writeLock(() =>
        guard(async () => {
          const result = await withBusyRetry(work, busy);
          committed();
          return result;
        }),
      );
    },
    read(work) {
      const run = (): ReturnType<typeof work> => guard(() => withBusyRetry(() => work(client), busy));
      return readsQueue ? writeLock(run) : run();
    },
  };
}

/** Errors leave the store as `CodexImgError`: SQL text and file paths stay in `cause`, out of replies. */
async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CodexImgError) throw error;
    throw new CodexImgError("internal", "The database could not be read or written.", {
      cause: error,
    });
  }
}

function createLock(): Lock {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const result = tail.then(work, work);
    tail = result.catch(() => undefined);
    return result;
  };
}

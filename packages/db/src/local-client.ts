import {
  type Client,
  type InArgs,
  type InStatement,
  LibsqlError,
  type ResultSet,
  type TransactionMode,
} from "@libsql/client";
import Database from "libsql";
import { beginStatement, execute, inTransaction, type LocalConnection, run } from "./local-connection.js";
import { localTransaction } from "./local-transaction.js";
import { startWalCheckpointer, type WalCheckpointer } from "./wal-checkpointer.js";

/**
 * The `@libsql/client` `Client` for a local file, on the `libsql` package (the same engine, better-sqlite3
 * API) with its prepared statements kept and reused: `@libsql/client` parses and plans every statement
 * anew, which was most of the server's CPU on job reads and writes. Drizzle and every store use it
 * through the same `Client` interface as a remote database.
 *
 * The driver is synchronous, so each statement blocks the event loop while it runs: statements here are
 * small point reads and writes by key. It never waits for a lock inside SQLite (busy timeout 0): a locked
 * database answers SQLITE_BUSY at once and `withBusyRetry` waits asynchronously. Connections form a
 * small pool: a transaction holds its own until it ends, so single statements of other callers never run
 * inside it (they would see, or join, its uncommitted writes).
 */
export function createLocalClient(
  path: string,
  options: {
    /**
     * Checkpoint from a worker thread (`startWalCheckpointer`) instead of in whichever commit passes
     * 1,000 pages of log: for a long-running server. `onFallback` hears why it went back to the latter.
     */
    backgroundCheckpoints?: { onFallback(reason: string): void };
  } = {},
): Client {
  const idle: LocalConnection[] = [];
  const all = new Set<LocalConnection>();
  let closed = false;
  let checkpointer: WalCheckpointer | undefined;
  function setAutocheckpoint(db: InstanceType<typeof Database>): void {
    if (checkpointer) db.exec(`PRAGMA wal_autocheckpoint = ${checkpointer.autocheckpointPages()}`);
  }
  if (options.backgroundCheckpoints) {
    const { onFallback } = options.backgroundCheckpoints;
    checkpointer = startWalCheckpointer(path, (reason) => {
      // Every connection checkpoints on its own again, as without the thread.
      for (const connection of all) setAutocheckpoint(connection.db);
      onFallback(reason);
    });
  }

  const open = (): LocalConnection => {
    const db = new Database(path, { timeout: 0 });
    // In WAL mode, NORMAL syncs the log at checkpoints instead of on every commit: a commit then costs
    // ~0.4 ms instead of ~2.7 ms of fsync on the event loop. A process crash (kill -9) loses nothing;
    // a power loss or OS crash may roll back the last commits since a checkpoint, never corrupt the file.
    db.exec("PRAGMA synchronous = NORMAL");
    setAutocheckpoint(db);
    const connection: LocalConnection = { db, statements: new Map(), tainted: false };
    all.add(connection);
    return connection;
  };

  const acquire = (): LocalConnection => {
    if (closed) throw new LibsqlError("The client is closed", "CLIENT_CLOSED");
    return idle.pop() ?? open();
  };

  const release = (connection: LocalConnection): void => {
    if (connection.db.open && connection.db.inTransaction) {
      try {
        connection.db.exec("ROLLBACK");
      } catch {
        connection.tainted = true;
      }
    }
    // A statement that failed (SQLITE_BUSY above all) may be left un-reset by the driver, holding a read
    // snapshot or blocking COMMIT on that connection; a fresh connection is cheap and certainly clean.
    if (closed || connection.tainted || !connection.db.open) {
      discard(connection);
      return;
    }
    idle.push(connection);
  };

  const discard = (connection: LocalConnection): void => {
    all.delete(connection);
    try {
      if (connection.db.open) connection.db.close();
    } catch {
      // Nothing to do while tearing down.
    }
  };

  const discardAll = (): void => {
    for (const connection of [...all]) discard(connection);
    idle.length = 0;
  };

  /** Runs `work` on a connection of its own for one call. */
  const withConnection = <T>(work: (connection: LocalConnection) => T): Promise<T> => {
    try {
      const connection = acquire();
      try {
        return Promise.resolve(work(connection));
      } finally {
        release(connection);
      }
    } catch (error) {
      return Promise.reject(error);
    }
  };

  const client: Client = {
    closed: false,
    protocol: "file",
    execute(stmtOrSql: InStatement, args?: InArgs): Promise<ResultSet> {
      const stmt = typeof stmtOrSql === "string" ? { sql: stmtOrSql, args: args ?? [] } : stmtOrSql;
      return withConnection((connection) => execute(connection, stmt));
    },
    batch(stmts, mode: TransactionMode = "deferred") {
      return withConnection((connection) =>
        inTransaction(connection, mode, () =>
          stmts.map((stmt) =>
            execute(connection, Array.isArray(stmt) ? { sql: stmt[0], args: stmt[1] ?? [] } : stmt),
          ),
        ),
      );
    },
    migrate(stmts) {
      return withConnection((connection) => {
        run(connection, () => connection.db.exec("PRAGMA foreign_keys = off"));
        try {
          return inTransaction(connection, "deferred", () => stmts.map((stmt) => execute(connection, stmt)));
        } finally {
          run(connection, () => connection.db.exec("PRAGMA foreign_keys = on"));
        }
      });
    },
    async transaction(mode: TransactionMode = "write") {
      const connection = acquire();
      try {
        run(connection, () => connection.db.exec(beginStatement(mode)));
      } catch (error) {
        release(connection);
        throw error;
      }
      return localTransaction(connection, release);
    },
    executeMultiple(sql) {
      return withConnection((connection) => {
        run(connection, () => connection.db.exec(sql));
      });
    },
    async sync() {
      throw new LibsqlError("A local file has no remote to sync with.", "SYNC_NOT_SUPPORTED");
    },
    close() {
      void checkpointer?.stop();
      closed = true;
      client.closed = true;
      discardAll();
    },
    reconnect() {
      // Fresh connections; the checkpoint thread has its own and goes on.
      discardAll();
      closed = false;
      client.closed = false;
    },
  };
  // Fail fast when the file cannot be opened at all.
  const probe = acquire();
  release(probe);
  return client;
}

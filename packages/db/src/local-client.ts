import {
  type Client,
  type InArgs,
  type InStatement,
  type InValue,
  LibsqlError,
  type ResultSet,
  type Row,
  type Transaction,
  type TransactionMode,
} from "@libsql/client";
import Database from "libsql";

/** Prepared statements kept per connection; past this many, the least recently used is dropped. */
const STATEMENT_CACHE_SIZE = 256;

type Connection = InstanceType<typeof Database>;
type Statement = ReturnType<Connection["prepare"]>;

interface Prepared {
  statement: Statement;
  reader: boolean;
  columns: string[];
}

interface PooledConnection {
  db: Connection;
  statements: Map<string, Prepared>;
  /** An error came out of SQLite on it: closed on release rather than reused (see `release`). */
  tainted: boolean;
}

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
export function createLocalClient(path: string): Client {
  const idle: PooledConnection[] = [];
  const all = new Set<PooledConnection>();
  let closed = false;

  const open = (): PooledConnection => {
    const db = new Database(path, { timeout: 0 });
    // In WAL mode, NORMAL syncs the log at checkpoints instead of on every commit: a commit then costs
    // ~0.4 ms instead of ~2.7 ms of fsync on the event loop. A process crash (kill -9) loses nothing;
    // a power loss or OS crash may roll back the last commits since a checkpoint, never corrupt the file.
    db.exec("PRAGMA synchronous = NORMAL");
    const connection: PooledConnection = { db, statements: new Map(), tainted: false };
    all.add(connection);
    return connection;
  };

  const acquire = (): PooledConnection => {
    if (closed) throw new LibsqlError("The client is closed", "CLIENT_CLOSED");
    return idle.pop() ?? open();
  };

  const release = (connection: PooledConnection): void => {
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

  const discard = (connection: PooledConnection): void => {
    all.delete(connection);
    try {
      if (connection.db.open) connection.db.close();
    } catch {
      // Nothing to do while tearing down.
    }
  };

  /** Runs `work` on a connection of its own for one call. */
  const withConnection = <T>(work: (connection: PooledConnection) => T): Promise<T> => {
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
      closed = true;
      client.closed = true;
      for (const connection of [...all]) discard(connection);
      idle.length = 0;
    },
    reconnect() {
      client.close();
      closed = false;
      client.closed = false;
    },
  };
  // Fail fast when the file cannot be opened at all.
  const probe = acquire();
  release(probe);
  return client;
}

function localTransaction(
  connection: PooledConnection,
  release: (connection: PooledConnection) => void,
): Transaction {
  let done = false;
  const check = (): void => {
    if (done) throw new LibsqlError("The transaction is closed", "TRANSACTION_CLOSED");
  };
  const settle = (): void => {
    if (done) return;
    done = true;
    release(connection);
  };
  return {
    get closed() {
      return done;
    },
    async execute(stmt) {
      check();
      return execute(connection, stmt);
    },
    async batch(stmts) {
      check();
      return stmts.map((stmt) =>
        execute(connection, typeof stmt === "string" ? { sql: stmt, args: [] } : stmt),
      );
    },
    async executeMultiple(sql) {
      check();
      run(connection, () => connection.db.exec(sql));
    },
    async commit() {
      check();
      try {
        run(connection, () => connection.db.exec("COMMIT"));
      } finally {
        settle();
      }
    },
    async rollback() {
      if (done) return;
      settle(); // `release` rolls back what is still open
    },
    close() {
      settle();
    },
  };
}

function inTransaction<T>(connection: PooledConnection, mode: TransactionMode, work: () => T): T {
  run(connection, () => connection.db.exec(beginStatement(mode)));
  const result = work();
  run(connection, () => connection.db.exec("COMMIT"));
  return result;
}

function beginStatement(mode: TransactionMode): string {
  return mode === "write"
    ? "BEGIN IMMEDIATE"
    : mode === "read"
      ? "BEGIN TRANSACTION READONLY"
      : "BEGIN DEFERRED";
}

/** Runs a driver call; an error taints the connection and leaves as a `LibsqlError` with SQLite's codes. */
function run<T>(connection: PooledConnection, work: () => T): T {
  try {
    return work();
  } catch (error) {
    connection.tainted = true;
    throw toLibsqlError(error);
  }
}

function prepare(connection: PooledConnection, sql: string): Prepared {
  const cached = connection.statements.get(sql);
  if (cached) {
    // Map order is insertion order: moving the entry to the end keeps the most recent last.
    connection.statements.delete(sql);
    connection.statements.set(sql, cached);
    return cached;
  }
  const statement = connection.db.prepare(sql);
  const reader = statement.reader;
  const prepared: Prepared = {
    statement: reader ? statement.raw(true) : statement,
    reader,
    columns: reader ? statement.columns().map((column: { name: string }) => column.name) : [],
  };
  connection.statements.set(sql, prepared);
  if (connection.statements.size > STATEMENT_CACHE_SIZE) {
    const oldest = connection.statements.keys().next().value;
    if (oldest !== undefined) connection.statements.delete(oldest);
  }
  return prepared;
}

function execute(connection: PooledConnection, input: InStatement): ResultSet {
  const stmt = typeof input === "string" ? { sql: input, args: [] } : input;
  return run(connection, () => {
    const prepared = prepare(connection, stmt.sql);
    const args = toArgs(stmt.args);
    if (prepared.reader) {
      // `all` runs the statement to its end, so it holds no read snapshot afterwards.
      const raw = prepared.statement.all(args) as unknown[][];
      return resultSet(
        prepared.columns,
        raw.map((values) => toRow(values, prepared.columns)),
        0,
        undefined,
      );
    }
    const info = prepared.statement.run(args) as { changes: number; lastInsertRowid: number | bigint };
    return resultSet([], [], info.changes, BigInt(info.lastInsertRowid));
  });
}

function resultSet(
  columns: string[],
  rows: Row[],
  rowsAffected: number,
  lastInsertRowid: bigint | undefined,
): ResultSet {
  return {
    columns,
    columnTypes: columns.map(() => ""),
    rows,
    rowsAffected,
    lastInsertRowid,
    toJSON() {
      return { columns, rows: rows.map((row) => Array.from(row as ArrayLike<unknown>)), rowsAffected };
    },
  };
}

/** A row as `@libsql/client` gives it: values by index (not enumerable) and by column name. */
function toRow(values: unknown[], columns: string[]): Row {
  const row: Record<string | number, unknown> = {};
  Object.defineProperty(row, "length", { value: values.length });
  for (let i = 0; i < values.length; i++) {
    const value = fromSql(values[i]);
    Object.defineProperty(row, i, { value });
    const name = columns[i] as string;
    if (!Object.hasOwn(row, name)) row[name] = value;
  }
  return row as unknown as Row;
}

function fromSql(value: unknown): unknown {
  return value instanceof Uint8Array
    ? value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength)
    : value;
}

function toArgs(args: InArgs | undefined): unknown[] | Record<string, unknown> {
  if (args === undefined) return [];
  if (Array.isArray(args)) return args.map(toSql);
  const named: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args)) {
    named[/^[@$:]/.test(name) ? name.slice(1) : name] = toSql(value);
  }
  return named;
}

function toSql(value: InValue): unknown {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (value instanceof Date) return value.valueOf();
  if (value === undefined) throw new TypeError("undefined cannot be passed as argument to the database");
  return value;
}

const SQLITE_CODES: Record<number, string> = {
  1: "SQLITE_ERROR",
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  8: "SQLITE_READONLY",
  10: "SQLITE_IOERR",
  11: "SQLITE_CORRUPT",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  19: "SQLITE_CONSTRAINT",
  26: "SQLITE_NOTADB",
};

/** SQLite's error as `@libsql/client` reports it: the base code in `code`, the extended one beside it. */
function toLibsqlError(error: unknown): unknown {
  if (error instanceof LibsqlError || !(error instanceof Error)) return error;
  const { code, rawCode } = error as Error & { code?: unknown; rawCode?: unknown };
  if (typeof rawCode !== "number") return error;
  const base = SQLITE_CODES[rawCode & 0xff] ?? `SQLITE_UNKNOWN_${rawCode & 0xff}`;
  return new LibsqlError(error.message, base, typeof code === "string" ? code : undefined, rawCode, error);
}

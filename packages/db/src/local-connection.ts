import type { InStatement, ResultSet, TransactionMode } from "@libsql/client";
import type Database from "libsql";
import { resultSet, toArgs, toRow } from "./sqlite-values.js";
import { toLibsqlError } from "./to-libsql-error.js";

/** Prepared statements kept per connection; past this many, the least recently used is dropped. */
const STATEMENT_CACHE_SIZE = 256;

type Connection = InstanceType<typeof Database>;
type Statement = ReturnType<Connection["prepare"]>;

interface Prepared {
  statement: Statement;
  reader: boolean;
  columns: string[];
}

/** One `libsql` connection of the local client's pool, with its prepared statements. */
export interface LocalConnection {
  db: Connection;
  statements: Map<string, Prepared>;
  /** An error came out of SQLite on it: closed on release rather than reused (see `release`). */
  tainted: boolean;
}

/** Runs `work` between a BEGIN of `mode` and a COMMIT on `connection`. */
export function inTransaction<T>(connection: LocalConnection, mode: TransactionMode, work: () => T): T {
  run(connection, () => connection.db.exec(beginStatement(mode)));
  const result = work();
  run(connection, () => connection.db.exec("COMMIT"));
  return result;
}

export function beginStatement(mode: TransactionMode): string {
  return mode === "write"
    ? "BEGIN IMMEDIATE"
    : mode === "read"
      ? "BEGIN TRANSACTION READONLY"
      : "BEGIN DEFERRED";
}

/** Runs a driver call; an error taints the connection and leaves as a `LibsqlError` with SQLite's codes. */
export function run<T>(connection: LocalConnection, work: () => T): T {
  try {
    return work();
  } catch (error) {
    connection.tainted = true;
    throw toLibsqlError(error);
  }
}

function prepare(connection: LocalConnection, sql: string): Prepared {
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

/** One statement on `connection`, through its kept prepared statement, as `@libsql/client` answers it. */
export function execute(connection: LocalConnection, input: InStatement): ResultSet {
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

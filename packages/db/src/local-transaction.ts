import { LibsqlError, type Transaction } from "@libsql/client";
import { execute, type LocalConnection, run } from "./local-connection.js";

/** A `Transaction` holding `connection` until it commits, rolls back or closes; then `release` gets it back. */
export function localTransaction(
  connection: LocalConnection,
  release: (connection: LocalConnection) => void,
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

import type { Client, Transaction } from "@libsql/client";
import { JOB_SELECT, type JobRecord, rowToRecord } from "./job-rows.js";

/** The job `id` (read inside a write transaction, for `saveJob`, or as a read); undefined when there is none. */
export async function loadJob(db: Transaction | Client, id: string): Promise<JobRecord | undefined> {
  const result = await db.execute({ sql: `${JOB_SELECT} WHERE j.id = ?`, args: [id] });
  const row = result.rows[0];
  return row ? rowToRecord(row) : undefined;
}

/** The jobs matching `where` (over `jobs AS j`), in insertion order, read inside a write transaction. */
export async function loadJobs(
  tx: Transaction,
  where: string,
  args: (string | number)[],
): Promise<JobRecord[]> {
  const result = await tx.execute({ sql: `${JOB_SELECT} WHERE ${where} ORDER BY j.rowid`, args });
  return result.rows.map(rowToRecord);
}

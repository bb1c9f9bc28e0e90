import { copyJson, isTerminalJobState, type Job, type JobTransition } from "@codex-img/core";
import type { InStatement, Transaction } from "@libsql/client";
import { jobOutcomeStatements } from "./account-usage.js";
import { attemptStatement, changedJobColumns, eventStatement, type JobRecord } from "./job-rows.js";
import { sameJson } from "./same-json.js";

/**
 * Writes `transition` over `record` (the job as read by `loadJob` in the same open transaction) in one
 * batch: the changed columns, the changed attempts, the new events and, when the job ends, its usage.
 * Returns the job as stored; `record` follows it.
 */
export async function saveJob(tx: Transaction, record: JobRecord, transition: JobTransition): Promise<Job> {
  const { job } = transition;
  const changed = changedJobColumns(record.job, job);
  const lastSeq = record.lastSeq + transition.events.length;
  const statements: InStatement[] = [
    {
      sql: `UPDATE jobs SET ${changed.map(([name]) => `${name} = ?, `).join("")}last_seq = ? WHERE id = ?`,
      args: [...changed.map(([, value]) => value), lastSeq, job.id],
    },
  ];
  // Only the newest attempt ever changes, but comparing all keeps this honest if that rule moves.
  job.attempts.forEach((attempt, i) => {
    const before = record.job.attempts[i];
    if (!before || !sameJson(before, attempt)) statements.push(attemptStatement(job.id, attempt));
  });
  transition.events.forEach((event, i) => {
    statements.push(eventStatement(job.id, record.lastSeq + i + 1, event));
  });
  // Usage per day, key and account counts each job once, as it ends (`expired` later is not an outcome).
  if (!isTerminalJobState(record.job.state) && isTerminalJobState(job.state)) {
    statements.push(...jobOutcomeStatements(job));
  }
  await tx.batch(statements);
  record.job = copyJson(job);
  record.lastSeq = lastSeq;
  return job;
}

import { CodexImgError, type JobPage, type ListJobsQuery } from "@codex-img/core";
import { JOB_SELECT, type JobRecord, rowToRecord } from "./job-rows.js";
import type { LibsqlSession } from "./libsql-session.js";

/** `JobStore.list`: newest first, one read; the cursor is the last job's `createdAt` and insertion order. */
export async function listJobs(session: LibsqlSession, query: ListJobsQuery): Promise<JobPage> {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (query.keyId !== undefined) {
    where.push("j.key_id = ?");
    args.push(query.keyId);
  }
  if (query.state !== undefined) {
    const states = ([] as string[]).concat(query.state);
    if (states.length === 0) return { jobs: [] };
    where.push(`j.state IN (${states.map(() => "?").join(", ")})`);
    args.push(...states);
  }
  const after = decodeCursor(query.cursor);
  if (after) {
    where.push("(j.created_at < ? OR (j.created_at = ? AND j.rowid < ?))");
    args.push(after.createdAt, after.createdAt, after.order);
  }
  const limit = Math.max(1, Math.floor(query.limit));
  const sql = `${JOB_SELECT} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY j.created_at DESC, j.rowid DESC LIMIT ?`;
  return session.read(async (client) => {
    const records = (await client.execute({ sql, args: [...args, limit + 1] })).rows.map(rowToRecord);
    const page = records.slice(0, limit);
    const last = page.at(-1);
    return {
      jobs: page.map((r) => r.job),
      ...(records.length > limit && last ? { nextCursor: encodeCursor(last) } : {}),
    };
  });
}

function encodeCursor(record: JobRecord): string {
  return `${record.job.createdAt}.${record.order}`;
}

function decodeCursor(cursor: string | undefined): { createdAt: number; order: number } | undefined {
  if (cursor === undefined) return undefined;
  const [createdAt, order, extra] = cursor.split(".").map(Number);
  if (!Number.isSafeInteger(createdAt) || !Number.isSafeInteger(order) || extra !== undefined) {
    throw new CodexImgError("invalid_request", "Unknown cursor.", { details: { param: "cursor" } });
  }
  return { createdAt: createdAt as number, order: order as number };
}

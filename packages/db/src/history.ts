import type { JobKind, JobState } from "@codex-img/core";
import type { InArgs } from "@libsql/client";
import type { Database } from "./create-db.js";
import { decodeCursor, encodeCursor } from "./page-cursor.js";

/** One history row as a list shows it: no request JSON, no image list, the prompt cut short. */
export interface JobSummary {
  id: string;
  kind: JobKind;
  state: JobState;
  keyId: string | null;
  /** Copied into the job, so it survives the key's deletion. */
  keyName: string | null;
  /** Account label(s) of the last attempt, comma-separated. */
  account: string | null;
  backend: string | null;
  /** The first `HISTORY_PROMPT_CHARS` characters. */
  prompt: string;
  imageCount: number;
  attemptCount: number;
  errorCode: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  expiresAt: number | null;
}

export interface HistoryQuery {
  /** From the previous page's `nextCursor`. */
  cursor?: string;
  /** 1 to `HISTORY_MAX_LIMIT`; default 50. */
  limit?: number;
  state?: JobState;
  /** `image` or `vision`. */
  kind?: JobKind;
  keyId?: string;
  /** Exact account label. */
  account?: string;
  /** `created_at` from, epoch ms, inclusive. */
  since?: number;
  /** `created_at` until, epoch ms, exclusive. */
  until?: number;
  /** Words that must all appear in the prompt (FTS5, case- and accent-insensitive); operators are not interpreted. */
  text?: string;
}

export interface HistoryPage {
  items: JobSummary[];
  /**
   * Absent on the last page. A text search may return fewer than `limit` items with a cursor when it
   * stopped at `HISTORY_SCAN_BUDGET` rows; following the cursor goes on from there.
   */
  nextCursor?: string;
}

export const HISTORY_MAX_LIMIT = 200;
export const HISTORY_PROMPT_CHARS = 300;

/** Below this many full-text matches the page is built from the matches: read them all, sort them. */
const FEW_MATCHES = 2000;
/** Matches counted at most this far to estimate how dense they are (a capped count is cheap). */
const DENSITY_SAMPLE = 30_000;
/** Candidate batches of the windowed strategy grow from this size and double up to the maximum. */
const MIN_BATCH = 256;
const MAX_BATCH = 65_536;
/**
 * A windowed page reads at most this many candidate rows; past it the page ends early (fewer items, with a
 * `nextCursor` where the scan stopped), so a rare word or a symbol search never walks the whole history.
 */
export const HISTORY_SCAN_BUDGET = 200_000;

export type HistoryStrategy = "index" | "fts-first" | "fts-window" | "like";

interface Filters {
  where: string[];
  args: (string | number)[];
}

const SUMMARY_COLUMNS = `j.rowid AS rid, j.id, j.kind, j.state, j.key_id, j.key_name, j.account, j.backend,
      substr(j.prompt, 1, ${HISTORY_PROMPT_CHARS}) AS prompt, j.image_count, j.attempt_count, j.error_code,
      j.created_at, j.started_at, j.finished_at, j.expires_at`;
const ORDER = "ORDER BY j.created_at DESC, j.rowid DESC";

/**
 * Newest first, keyset-paged on (created_at, rowid): a page costs the same at any depth and rows inserted
 * meanwhile neither repeat nor shift later pages. Every filter combination is served by an index of
 * `jobs` (see schema/jobs.ts) or by `jobs_fts`; `test/history.test.ts` checks the plans.
 *
 * Prompt text takes one of three paths. Few matches: read them from `jobs_fts` and sort. Otherwise walk
 * the date-ordered index (with the other filters) in batches of candidate rowids and ask `jobs_fts` only
 * for matches inside each batch's rowid range: jobs are inserted in creation order, so that range is
 * narrow and a common word costs about one batch, not a pass over every match. (Rows whose rowids do not
 * follow their dates, as after an import out of order, still come out right, only slower.)
 */
export async function queryHistory(database: Database, query: HistoryQuery = {}): Promise<HistoryPage> {
  const limit = clampLimit(query.limit);
  const plan = await planHistoryQuery(database, query, limit);
  if (plan.strategy === "fts-window" || plan.strategy === "like") {
    const { rows, resumeAt } = await windowedPage(database, query, limit, plan);
    const items = rows.slice(0, limit).map(toSummary);
    const last = rows[items.length - 1];
    if (rows.length > limit && last)
      return { items, nextCursor: encodeCursor([Number(last.created_at), Number(last.rid)]) };
    return resumeAt ? { items, nextCursor: encodeCursor(resumeAt) } : { items };
  }
  const rows = (await database.client.execute({ sql: plan.sql, args: plan.args })).rows;
  const items = rows.slice(0, limit).map(toSummary);
  const last = rows[items.length - 1];
  if (rows.length <= limit || !last) return { items };
  return { items, nextCursor: encodeCursor([Number(last.created_at), Number(last.rid)]) };
}

/** How `queryHistory` will run a query, and the SQL of its main statement (for plan checks and the benchmark). */
export async function planHistoryQuery(
  database: Database,
  query: HistoryQuery,
  limit: number = clampLimit(query.limit),
): Promise<{ sql: string; args: InArgs; strategy: HistoryStrategy; match?: string; density?: number }> {
  const position = query.cursor === undefined ? undefined : decodeCursor(query.cursor, ["number", "number"]);
  const filters = baseFilters(query, position as [number, number] | undefined);
  const text = query.text?.trim() ?? "";
  const select = (f: Filters, from = "jobs j"): string =>
    `SELECT ${SUMMARY_COLUMNS} FROM ${from}${f.where.length > 0 ? ` WHERE ${f.where.join(" AND ")}` : ""} ${ORDER} LIMIT ${limit + 1}`;
  if (text.length === 0) return { sql: select(filters), args: filters.args, strategy: "index" };

  const match = toFtsQuery(text);
  if (match === undefined) {
    // Nothing FTS can index (only punctuation or symbols): a substring test, windowed like a common word.
    const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return { ...candidateSql(filters, MIN_BATCH), strategy: "like", match: pattern, density: 0.01 };
  }
  const matches = await countMatches(database, match, DENSITY_SAMPLE);
  if (matches <= FEW_MATCHES) {
    // CROSS JOIN keeps the FTS table as the outer loop: read the few matches, then sort them.
    const first = { where: ["jobs_fts MATCH ?", ...filters.where], args: [match, ...filters.args] };
    return {
      sql: select(first, "jobs_fts CROSS JOIN jobs j ON j.rowid = jobs_fts.rowid"),
      args: first.args,
      strategy: "fts-first",
      match,
    };
  }
  const total = Number((await database.client.execute("SELECT max(rowid) AS n FROM jobs")).rows[0]?.n ?? 1);
  const candidates = candidateSql(filters, MIN_BATCH);
  return { ...candidates, strategy: "fts-window", match, density: Math.min(1, matches / Math.max(1, total)) };
}

function clampLimit(limit: number | undefined): number {
  return Math.min(HISTORY_MAX_LIMIT, Math.max(1, Math.trunc(limit ?? 50)));
}

function baseFilters(query: HistoryQuery, position: [number, number] | undefined): Filters {
  const where: string[] = [];
  const args: (string | number)[] = [];
  // One upper bound on created_at only: with two (cursor and until) the planner, lacking statistics,
  // may prefer an index with fewer equality columns. Whichever bound is stricter implies the other.
  const cursorIsStricter = position !== undefined && (query.until === undefined || position[0] < query.until);
  if (position !== undefined && cursorIsStricter) {
    where.push("(j.created_at, j.rowid) < (?, ?)");
    args.push(position[0], position[1]);
  }
  if (query.state !== undefined) {
    where.push("j.state = ?");
    args.push(query.state);
  }
  if (query.kind !== undefined) {
    where.push("j.kind = ?");
    args.push(query.kind);
  }
  if (query.keyId !== undefined) {
    where.push("j.key_id = ?");
    args.push(query.keyId);
  }
  if (query.account !== undefined) {
    where.push("j.account = ?");
    args.push(query.account);
  }
  if (query.since !== undefined) {
    where.push("j.created_at >= ?");
    args.push(query.since);
  }
  if (query.until !== undefined && !cursorIsStricter) {
    where.push("j.created_at < ?");
    args.push(query.until);
  }
  return { where, args };
}

/** The next `batch` candidates in page order; index-only, since every history index ends in created_at, rowid. */
function candidateSql(filters: Filters, batch: number): { sql: string; args: InArgs } {
  return {
    sql: `SELECT j.rowid AS rid, j.created_at FROM jobs j${filters.where.length > 0 ? ` WHERE ${filters.where.join(" AND ")}` : ""} ${ORDER} LIMIT ${batch}`,
    args: filters.args,
  };
}

async function windowedPage(
  database: Database,
  query: HistoryQuery,
  limit: number,
  plan: { strategy: HistoryStrategy; match?: string; density?: number },
): Promise<{ rows: Record<string, unknown>[]; resumeAt?: [number, number] }> {
  const { client } = database;
  const wanted = limit + 1;
  const hitsSql =
    plan.strategy === "like"
      ? "SELECT rowid AS rid FROM jobs WHERE rowid BETWEEN ?2 AND ?3 AND prompt LIKE ?1 ESCAPE '\\'"
      : "SELECT rowid AS rid FROM jobs_fts WHERE jobs_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3";
  let position =
    query.cursor === undefined
      ? undefined
      : (decodeCursor(query.cursor, ["number", "number"]) as [number, number]);
  let batch = Math.min(MAX_BATCH, Math.max(MIN_BATCH, Math.ceil((wanted / (plan.density ?? 1)) * 1.5)));
  let scanned = 0;
  let resumeAt: [number, number] | undefined;
  const picked: number[] = [];
  for (;;) {
    const candidates = (await client.execute(candidateSql(baseFilters(query, position), batch))).rows;
    if (candidates.length === 0) break;
    const rowids = candidates.map((row) => Number(row.rid));
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (const rowid of rowids) {
      if (rowid < low) low = rowid;
      if (rowid > high) high = rowid;
    }
    // Any rowid range is right, since hits are intersected with the candidates; a narrow one is fast.
    const hits = await client.execute({ sql: hitsSql, args: [plan.match ?? "", low, high] });
    const matched = new Set(hits.rows.map((row) => Number(row.rid)));
    for (const rowid of rowids) {
      if (matched.has(rowid)) picked.push(rowid);
      if (picked.length === wanted) break;
    }
    scanned += candidates.length;
    if (picked.length === wanted || candidates.length < batch) break;
    const last = candidates[candidates.length - 1];
    position = [Number(last?.created_at), Number(last?.rid)];
    if (scanned >= HISTORY_SCAN_BUDGET) {
      resumeAt = position;
      break;
    }
    batch = Math.min(MAX_BATCH, batch * 2, HISTORY_SCAN_BUDGET - scanned);
  }
  if (picked.length === 0) return resumeAt ? { rows: [], resumeAt } : { rows: [] };
  const rows = await client.execute({
    sql: `SELECT ${SUMMARY_COLUMNS} FROM jobs j WHERE j.rowid IN (${picked.map(() => "?").join(", ")}) ${ORDER}`,
    args: picked,
  });
  return resumeAt ? { rows: rows.rows, resumeAt } : { rows: rows.rows };
}

/**
 * User text as an FTS5 query that means "all these words": the text is cut into tokens the way the
 * index's `unicode61` tokenizer cuts it (runs of letters and digits) and each becomes a quoted string,
 * so `AND`, `NEAR`, `*`, `-`, `:`, quotes and parentheses are plain text. One token per string also
 * means no phrase queries, which the index (`detail='none'`, smaller and faster) cannot answer.
 * Undefined when the text has no letter or digit (nothing indexed), so the caller can fall back.
 */
export function toFtsQuery(text: string): string | undefined {
  const tokens = text
    .split(/[^\p{L}\p{N}\p{M}]+/u)
    .filter((token) => token.length > 0)
    .slice(0, 16);
  if (tokens.length === 0) return undefined;
  return tokens.map((token) => `"${token}"`).join(" ");
}

async function countMatches(database: Database, match: string, cap: number): Promise<number> {
  const result = await database.client.execute({
    sql: "SELECT count(*) AS n FROM (SELECT rowid FROM jobs_fts WHERE jobs_fts MATCH ? LIMIT ?)",
    args: [match, cap],
  });
  return Number(result.rows[0]?.n ?? 0);
}

function toSummary(row: Record<string, unknown>): JobSummary {
  return {
    id: String(row.id),
    kind: String(row.kind ?? "image") as JobKind,
    state: String(row.state) as JobState,
    keyId: nullableString(row.key_id),
    keyName: nullableString(row.key_name),
    account: nullableString(row.account),
    backend: nullableString(row.backend),
    prompt: String(row.prompt ?? ""),
    imageCount: Number(row.image_count ?? 0),
    attemptCount: Number(row.attempt_count ?? 0),
    errorCode: nullableString(row.error_code),
    createdAt: Number(row.created_at),
    startedAt: nullableNumber(row.started_at),
    finishedAt: nullableNumber(row.finished_at),
    expiresAt: nullableNumber(row.expires_at),
  };
}

function nullableString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

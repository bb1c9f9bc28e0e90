import { type Database, type HistoryQuery, planHistoryQuery, queryHistory, toFtsQuery } from "@codex-img/db";
import { describe, expect, it } from "vitest";
import { useTempDatabase } from "./support/temp-database.js";

interface Row {
  id: string;
  state?: string;
  keyId?: string | null;
  account?: string | null;
  prompt?: string;
  createdAt: number;
}

async function insertJobs(database: Database, rows: readonly Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    await database.client.execute({
      sql: `INSERT INTO jobs (id, state, key_id, key_name, request_hash, request, prompt, account, max_attempts,
              attempt_timeout_ms, run_after, images, created_at, updated_at)
            VALUES ${chunk.map(() => "(?, ?, ?, ?, 'h', '{}', ?, ?, 1, 1000, ?, '[]', ?, ?)").join(", ")}`,
      args: chunk.flatMap((r) => [
        r.id,
        r.state ?? "succeeded",
        r.keyId ?? null,
        r.keyId ? `name of ${r.keyId}` : null,
        r.prompt ?? "a picture",
        r.account ?? null,
        r.createdAt,
        r.createdAt,
        r.createdAt,
      ]),
    });
  }
}

async function allPages(database: Database, query: HistoryQuery): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await queryHistory(database, { ...query, ...(cursor ? { cursor } : {}) });
    ids.push(...page.items.map((j) => j.id));
    cursor = page.nextCursor;
    if (!cursor) return ids;
  }
  throw new Error("paging did not end");
}

describe("queryHistory", () => {
  const temp = useTempDatabase("codex-img-history-");

  const STATES = ["succeeded", "failed", "canceled", "expired", "queued", "running"];
  const fixture = (n: number): Row[] =>
    Array.from({ length: n }, (_, i) => ({
      id: `img_${String(i).padStart(5, "0")}`,
      state: STATES[i % 6] as string,
      keyId: i % 7 === 0 ? null : `key_${i % 3}`,
      account: i % 5 === 0 ? null : `acct${i % 4}`,
      prompt: `${i % 2 === 0 ? "red fox" : "blue whale"} number${i} ${i % 10 === 0 ? 'say "hello" AND NEAR(x) -y col:z *' : ""}`,
      // Some equal timestamps, so the rowid tie-break matters.
      createdAt: 1_000_000 + Math.floor(i / 3) * 1000,
    }));

  it("returns summaries newest first, with the key's name kept and the prompt cut short", async () => {
    await insertJobs(temp.database, [
      { id: "img_old", keyId: "key_a", account: "alice", prompt: "x".repeat(1000), createdAt: 1 },
      { id: "img_new", state: "failed", createdAt: 2 },
    ]);
    const page = await queryHistory(temp.database);
    expect(page.nextCursor).toBeUndefined();
    expect(page.items.map((j) => j.id)).toEqual(["img_new", "img_old"]);
    expect(page.items[1]).toMatchObject({
      state: "succeeded",
      keyId: "key_a",
      keyName: "name of key_a",
      account: "alice",
      imageCount: 0,
      createdAt: 1,
      finishedAt: null,
    });
    expect(page.items[1]?.prompt).toHaveLength(300);
  });

  it("pages through every row exactly once, for every filter, with equal timestamps", async () => {
    const rows = fixture(500);
    await insertJobs(temp.database, rows);
    const byDate = [...rows].reverse();
    const cases: [HistoryQuery, (r: Row) => boolean][] = [
      [{}, () => true],
      [{ state: "failed" }, (r) => r.state === "failed"],
      [{ keyId: "key_1" }, (r) => r.keyId === "key_1"],
      [{ account: "acct2" }, (r) => r.account === "acct2"],
      [{ since: 1_050_000, until: 1_100_000 }, (r) => r.createdAt >= 1_050_000 && r.createdAt < 1_100_000],
      [
        { state: "succeeded", keyId: "key_0", account: "acct0", since: 1_010_000 },
        (r) =>
          r.state === "succeeded" && r.keyId === "key_0" && r.account === "acct0" && r.createdAt >= 1_010_000,
      ],
      [{ text: "fox" }, (r) => r.prompt?.includes("fox") ?? false],
      [
        { text: "WHALE", keyId: "key_1", state: "failed" },
        (r) => r.prompt?.includes("whale") === true && r.keyId === "key_1" && r.state === "failed",
      ],
    ];
    for (const [query, keep] of cases) {
      const expected = byDate.filter(keep).map((r) => r.id);
      expect(expected.length).toBeGreaterThan(0);
      for (const limit of [1, 7, 200]) {
        expect(await allPages(temp.database, { ...query, limit }), JSON.stringify({ query, limit })).toEqual(
          expected,
        );
      }
    }
  });

  it("keeps paging stable while new jobs are inserted", async () => {
    await insertJobs(temp.database, fixture(300));
    const seen: string[] = [];
    let cursor: string | undefined;
    let extra = 0;
    do {
      const page = await queryHistory(temp.database, { limit: 13, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor;
      // New jobs arrive between pages, newer than everything (and one at an equal timestamp).
      await insertJobs(temp.database, [
        { id: `img_new${extra++}`, createdAt: 9_000_000 + extra },
        { id: `img_tie${extra}`, createdAt: 1_099_000 },
      ]);
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (let i = 0; i < 300; i++) expect(seen).toContain(`img_${String(i).padStart(5, "0")}`);
    expect(seen.filter((id) => id.startsWith("img_new"))).toEqual([]);
  });

  it("finds prompt words and treats quotes and FTS operators as text", async () => {
    await insertJobs(temp.database, fixture(60));
    const ids = async (text: string): Promise<string[]> =>
      (await queryHistory(temp.database, { text, limit: 200 })).items.map((j) => j.id);
    expect(await ids("number7")).toEqual(["img_00007"]);
    expect(await ids("Red   FOX number12")).toEqual(["img_00012"]);
    expect(await ids("red whale")).toEqual([]);
    const tricky = [
      'say "hello',
      '"hello"',
      "AND",
      "NEAR(x)",
      "-y",
      "col:z",
      "*",
      "hello AND OR NOT",
      '"',
      "(",
      "x'; DROP TABLE jobs; --",
    ];
    for (const text of tricky) await expect(ids(text), text).resolves.toBeInstanceOf(Array);
    expect(await ids('"hello"')).toEqual([
      "img_00050",
      "img_00040",
      "img_00030",
      "img_00020",
      "img_00010",
      "img_00000",
    ]);
    expect(await ids("NEAR(x)")).toHaveLength(6);
    // Only symbols: nothing for FTS to index, so a substring search.
    expect(await ids("*")).toHaveLength(6);
    expect(await ids("%")).toEqual([]);
    expect((await temp.database.client.execute("SELECT count(*) AS n FROM jobs")).rows[0]?.n).toBe(60);
  });

  it("cuts user text into quoted tokens, as the index's tokenizer does", () => {
    expect(toFtsQuery('red "fox" AND -x e-mail café')).toBe('"red" "fox" "AND" "x" "e" "mail" "café"');
    expect(toFtsQuery("  *  ( ) ")).toBeUndefined();
  });

  it("pages a common word through the windowed path, also when rowids do not follow dates", async () => {
    // Dates deliberately shuffled against insertion order (as after an import out of order).
    const rows: Row[] = Array.from({ length: 3000 }, (_, i) => ({
      id: `img_${String(i).padStart(5, "0")}`,
      keyId: `key_${i % 2}`,
      prompt: i % 3 === 0 ? "common word" : "common other",
      createdAt: 5_000_000 + ((i * 7919) % 3000) * 10,
    }));
    await insertJobs(temp.database, rows);
    const plan = await planHistoryQuery(temp.database, { text: "common" });
    expect(plan.strategy).toBe("fts-window");
    const expect1 = [...rows].sort((a, b) => b.createdAt - a.createdAt);
    expect(await allPages(temp.database, { text: "common", limit: 101 })).toEqual(expect1.map((r) => r.id));
    expect(await allPages(temp.database, { text: "word", keyId: "key_1", limit: 50 })).toEqual(
      expect1.filter((r) => r.keyId === "key_1" && r.prompt === "common word").map((r) => r.id),
    );
    expect((await planHistoryQuery(temp.database, { text: "word" })).strategy).toBe("fts-first");
  });

  it("refuses a cursor that is not one of its own", async () => {
    await expect(queryHistory(temp.database, { cursor: "nope" })).rejects.toMatchObject({
      code: "invalid_request",
    });
    await expect(queryHistory(temp.database, { cursor: btoa("[1]") })).rejects.toMatchObject({
      code: "invalid_request",
    });
  });

  it("serves every filter combination from an index, in index order", async () => {
    await insertJobs(temp.database, fixture(50));
    const filters: HistoryQuery[] = [];
    const parts: HistoryQuery[] = [
      { state: "failed" },
      { keyId: "key_1" },
      { account: "acct1" },
      { since: 1, until: 2 },
    ];
    for (let mask = 0; mask < 16; mask++) {
      filters.push(Object.assign({}, ...parts.filter((_, i) => mask & (1 << i))));
    }
    const cursor = (await queryHistory(temp.database, { limit: 1 })).nextCursor;
    for (const base of filters) {
      for (const query of [base, { ...base, cursor }]) {
        const plan = await planHistoryQuery(temp.database, query, 50);
        const rows = await temp.database.client.execute({
          sql: `EXPLAIN QUERY PLAN ${plan.sql}`,
          args: plan.args,
        });
        const detail = rows.rows.map((r) => String(r.detail)).join(" / ");
        expect(detail, JSON.stringify(query)).toMatch(
          /^SEARCH j USING (COVERING )?INDEX jobs_\w+ \(|^SCAN j USING (COVERING )?INDEX jobs_created/,
        );
        expect(detail, JSON.stringify(query)).not.toMatch(/TEMP B-TREE/);
        // A state filter together with a key or an account uses the composite index, so a rare state stays cheap.
        if (query.state && (query.keyId || query.account))
          expect(detail).toMatch(/jobs_(key|account)_state_created/);
      }
    }
  });

  it("keeps prompt search right after VACUUM (the FTS index links by jobs.seq, a rowid VACUUM must keep)", async () => {
    await insertJobs(temp.database, fixture(40));
    // SQLite documents that VACUUM may renumber implicit rowids (gaps are the risky case); an INTEGER
    // PRIMARY KEY is guaranteed to survive, and with it the link to jobs_fts.
    await temp.database.client.execute("DELETE FROM jobs WHERE id < 'img_00020'");
    await temp.database.client.execute("VACUUM");
    const foxes = await allPages(temp.database, { text: "fox" });
    expect(foxes).toHaveLength(10);
    for (const id of foxes) expect(Number(id.slice(4)) % 2).toBe(0);
  });
});

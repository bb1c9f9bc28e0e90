/**
 * Child of checkpoint.test.ts, run with Bun: opens `url` with background checkpoints, commits ~2 MB in
 * small transactions (far below the 1,000 pages of log at which a commit checkpoints on its own), then
 * prints one JSON line: the database file's size right after the commits and once it holds the rows (or
 * after 5 s), and why the checkpoint thread stopped if it did.
 */
import { stat } from "node:fs/promises";
import { createDb, filePath } from "@codex-img/db";

const [url] = process.argv.slice(2);
if (!url) throw new Error("usage: checkpoint-child.ts <file: url>");
const fallbacks: string[] = [];
const database = await createDb({
  url,
  backgroundCheckpoints: { onFallback: (reason) => void fallbacks.push(reason) },
});
const path = filePath(url);
const size = async (): Promise<number> => (await stat(path)).size;
await database.client.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
const body = new Uint8Array(8192).fill(7);
for (let i = 0; i < 256; i++) {
  await database.client.execute({ sql: "INSERT INTO filler (body) VALUES (?)", args: [body] });
}
const afterCommits = await size();
const deadline = Date.now() + 5_000;
while ((await size()) < afterCommits + 256 * 8192 && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const afterWait = await size();
database.close();
process.stdout.write(`${JSON.stringify({ afterCommits, afterWait, fallbacks })}\n`);

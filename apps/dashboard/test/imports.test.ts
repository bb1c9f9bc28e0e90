import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { REPO_ROOT } from "@codex-img/server/testing";
import { describe, expect, it } from "vitest";

// The dashboard is a static bundle in the browser: from the server's packages it may take types only,
// so no server code (database, credentials, Node modules) can end up in what it ships.

const SRC = join(REPO_ROOT, "apps/dashboard/src");

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(path);
      return Promise.resolve(/\.(ts|tsx)$/.test(entry.name) ? [path] : []);
    }),
  );
  return nested.flat();
}

describe("apps/dashboard imports", () => {
  it("takes only types from @codex-img packages and nothing from node:", async () => {
    const files = await sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(20);
    const offenders: string[] = [];
    for (const file of files) {
      const text = await readFile(file, "utf8");
      for (const match of text.matchAll(/^\s*(import|export)\s+([^;]*?)\s+from\s+["']([^"']+)["']/gms)) {
        const [, , clause = "", from = ""] = match;
        const typeOnly = clause.startsWith("type ") || /^\{\s*(type\s+[\w$]+\s*,?\s*)+\}$/.test(clause);
        if ((from.startsWith("@codex-img/") && !typeOnly) || from.startsWith("node:")) {
          offenders.push(`${relative(REPO_ROOT, file)}: ${from}`);
        }
      }
      if (/\bimport\(\s*["']@codex-img\//.test(text))
        offenders.push(`${relative(REPO_ROOT, file)}: import()`);
    }
    expect(offenders).toEqual([]);
  });
});

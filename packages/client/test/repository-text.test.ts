import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./support/server-process.js";

/**
 * What every file of the repository tells people and agents to run. codex-img is not on the public npm
 * registry, so a package runner given only its name would run a stranger's package of that name.
 */
describe("the repository's instructions", () => {
  const files = execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" })
    .split("\n")
    .filter((file) => /\.(md|ts|tsx|mjs|json|sh|ya?ml)$/.test(file));
  const text = (file: string): string => readFileSync(join(ROOT, file), "utf8");

  it("never suggest running codex-img through npx or bunx by its bare name", () => {
    const bare = new RegExp(`\\b(?:npx|bunx)(?:\\s+-[-\\w]+)*\\s+${"codex"}-img\\b`);
    expect(files.filter((file) => bare.test(text(file)))).toEqual([]);
  });

  it("in the docs, cite and link only files of the repository", () => {
    const docs = files.filter((file) => file.endsWith(".md"));
    const outside: string[] = [];
    for (const file of docs) {
      const body = text(file);
      if (/\bshared\/reference\//.test(body)) outside.push(`${file}: shared/reference/…`);
      for (const [, target = ""] of body.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue;
        const path = resolve(dirname(join(ROOT, file)), target);
        if (!path.startsWith(`${ROOT}/`) || !existsSync(path)) outside.push(`${file}: ${target}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it("name the key variable CODEX_IMG_API_KEY only", () => {
    const other = new RegExp(`\\b${"CODEX_IMG"}_KEY\\b`);
    expect(files.filter((file) => other.test(text(file)))).toEqual([]);
  });
});

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { createCodexHome } from "@codex-img/core/testing";
import { createDb, createKeyStore } from "@codex-img/db";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");
const run = (args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string }> =>
  promisify(execFile)(
    join(root, "node_modules/.bin/bun"),
    ["--conditions=source", join(root, "apps/server/src/main.ts"), ...args],
    {
      env: { PATH: process.env.PATH ?? "", ...env },
      timeout: 60_000,
    },
  );

describe("doctor and create-key commands", () => {
  it("doctor --json reports each login and the backend it would use, without a token", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codex-img-doctor-"));
    const login = await createCodexHome({ email: "owner@example.com", plan: "pro" });
    try {
      const { stdout } = await run(["doctor", "--json", "--data-dir", join(dir, "data")], {
        HOME: dir,
        CODEX_HOMES: `main=${login.home}`,
      });
      const report = JSON.parse(stdout) as {
        ok: boolean;
        backend: { selected: string };
        accounts: Array<{ label: string; email?: string; plan?: string; usable: boolean }>;
      };
      expect(report).toMatchObject({ ok: true, backend: { selected: "codex-http" } });
      expect(report.accounts[0]).toMatchObject({
        label: "main",
        email: "owner@example.com",
        plan: "pro",
        usable: true,
      });
      expect(stdout).not.toContain(login.accessToken);
      expect(stdout).not.toContain(login.refreshToken);
    } finally {
      await login.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("create-key prints a new key once on stdout, and the key works", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codex-img-create-key-"));
    try {
      const env = { HOME: dir, CODEX_HOMES: join(dir, "none") };
      const { stdout, stderr } = await run(
        ["create-key", "ci", "pipeline", "--data-dir", join(dir, "data")],
        env,
      );
      expect(stdout.trim()).toMatch(/^cimg_[A-Za-z0-9_-]{43}$/);
      expect(stderr).toMatch(/Created key "ci pipeline"/);
      const database = await createDb({ url: `file:${join(dir, "data", "codex-img.db")}` });
      try {
        expect(await createKeyStore(database).verify(stdout.trim())).toMatchObject({ name: "ci pipeline" });
      } finally {
        database.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { promisify } from "node:util";
import { createLocalBackend, sniffImage } from "@codex-img/core";
import { createCodexHome, startFakeCodexBackend } from "@codex-img/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../../..");
const example = join(root, "packages/core/examples/generate.mjs");
const bin = (name: string): string => join(root, "node_modules/.bin", name);

// The README promises the library on Node, Bun and Deno: run the shipped example on each, against the
// built package (what a consumer installs), with no Codex login so that the demo backend answers.
describe("the library example on every runtime", () => {
  let work: string;

  beforeAll(async () => {
    await run(process.execPath, [
      join(root, "node_modules/typescript/bin/tsc"),
      "-p",
      join(root, "packages/core/tsconfig.json"),
    ]);
    work = await mkdtemp(join(tmpdir(), "codex-img-example-"));
  }, 120_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const runtimes: Array<[string, () => [string, string[]]]> = [
    ["node", () => [process.execPath, [example]]],
    ["bun", () => [bin("bun"), [example]]],
    ["deno", () => [bin("deno"), ["run", "-A", example]]],
  ];

  it.each(runtimes)(
    "%s saves a demo image and prints only its path",
    async (name, command) => {
      const out = join(work, name);
      const [file, args] = command();
      const { stdout, stderr } = await run(file, [...args, "a lighthouse at dawn"], {
        cwd: join(root, "packages/core"),
        env: {
          PATH: process.env.PATH ?? "",
          HOME: work,
          CODEX_HOME: join(work, "no-login"),
          CODEX_IMG_OUT: out,
        },
        timeout: 60_000,
      });
      const lines = stdout.trim().split("\n");
      expect(lines).toHaveLength(1);
      const saved = lines[0] ?? "";
      expect(saved.startsWith(out)).toBe(true);
      expect(isAbsolute(saved) || existsSync(saved)).toBe(true);
      expect(sniffImage(await readFile(saved))).toEqual({ format: "png", width: 1024, height: 1024 });
      expect(stderr).toMatch(/demo backend/);
    },
    90_000,
  );
});

describe("createLocalBackend", () => {
  it("uses the local Codex login over HTTP when there is one", async () => {
    const upstream = await startFakeCodexBackend();
    const login = await createCodexHome();
    try {
      const { backend, account, notice } = await createLocalBackend({
        codexHome: login.home,
        tokenUrl: upstream.tokenUrl,
        codexHttp: { baseUrl: upstream.baseUrl },
      });
      expect(notice).toBeUndefined();
      const result = await backend.generate({ prompt: "a fox", size: "1024x1024" }, { account });
      expect(result.backend).toBe("codex-http");
      expect(result.images[0]?.format).toBe("png");
      const sent = upstream.requests.find((r) => r.url.includes("/images/generations"));
      expect(sent?.headers["chatgpt-account-id"]).toBe(login.accountId);
    } finally {
      await upstream.close();
      await login.cleanup();
    }
  });

  it("falls back to the demo backend with a notice naming the fix, unless told to insist", async () => {
    const apiKeyOnly = await createCodexHome({ variant: "apikey" });
    try {
      const local = await createLocalBackend({ codexHome: apiKeyOnly.home });
      expect(local.backend.kind).toBe("demo");
      expect(local.notice).toMatch(/codex login/);
      expect(local.notice).toMatch(/[^.]\. Using the demo backend/);
      await expect(
        createLocalBackend({ codexHome: apiKeyOnly.home, backend: "codex-http" }),
      ).rejects.toMatchObject({
        code: "login_required",
      });
    } finally {
      await apiKeyOnly.cleanup();
    }
  });
});

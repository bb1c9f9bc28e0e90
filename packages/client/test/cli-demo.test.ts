import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliProcess, type ServerProcess, startServerProcess } from "./support/server-process.js";

/** The CLI against a server with no Codex login: the demo backend, which draws PNG placeholders only. */
describe("codex-img CLI against the demo backend", () => {
  let server: ServerProcess;
  let work: string;

  beforeAll(async () => {
    server = await startServerProcess();
    work = await mkdtemp(join(tmpdir(), "codex-img-cli-demo-"));
  }, 40_000);

  afterAll(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("--format webp is refused clearly instead of saving a PNG", async () => {
    const run = await runCliProcess(["generate", "a fox", "--format", "webp", "-o", "fox/"], {
      cwd: work,
      env: { HOME: work, CODEX_IMG_BASE_URL: server.url, CODEX_IMG_API_KEY: server.key },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/demo backend draws PNG placeholders only/);
    // Nothing was saved: not even the folder was created.
    await expect(readdir(join(work, "fox"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sniffImage } from "@codex-img/core";
import { type ServerProcess, startServerProcess } from "@codex-img/server/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { BUN, ROOT, runProcess } from "./support/server-process.js";

/**
 * The linux-x64 single-file executables of `bun run release`, run with an empty PATH: nothing else
 * installed. One build for the whole file.
 */
describe.runIf(process.platform === "linux" && process.arch === "x64")(
  "release executables (linux-x64)",
  () => {
    let scratch: string;
    let release: string;
    let server: ServerProcess;

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), "codex-img-release-exe-"));
      release = join(scratch, "release");
      const built = await runProcess(
        BUN,
        ["scripts/release.ts", "--only", "executables", "--targets", "linux-x64", "--out", release],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? scratch },
          timeoutMs: 300_000,
        },
      );
      expect(built.code, built.stderr + built.stdout).toBe(0);
      const home = join(scratch, "server");
      await mkdir(home, { recursive: true });
      server = await startServerProcess({
        command: [join(release, "codex-img-server-linux-x64"), []],
        args: ["--port", "0"],
        env: { PATH: "", HOME: home },
        cwd: home,
      });
    }, 600_000);

    afterAll(async () => {
      await server?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it("the server executable migrates its database, reports ready and serves the dashboard", async () => {
      const ready = await fetch(`${server.url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: "ready" });
      const dashboard = await fetch(`${server.url}/admin/`);
      expect(dashboard.status).toBe(200);
      expect(await dashboard.text()).toContain("<html");
      // Its start hint names itself, not a checkout's script.
      await vi.waitFor(() => expect(server.stderr()).toContain("Stop with Ctrl-C"));
      expect(server.stderr()).toMatch(/More keys: `\S*codex-img-server-linux-x64 create-key NAME`/);
    });

    it("the server executable parses headers as `bun run start` does, so oversized ones get the API's JSON 431", async () => {
      const reply = await fetch(`${server.url}/v1/models`, {
        headers: { "x-filler": "a".repeat(24 * 1024) },
      });
      expect(reply.status).toBe(431);
      expect(await reply.json()).toMatchObject({ error: { code: "headers_too_large" } });
    });

    it("the CLI executable generates into the current folder against it", async () => {
      const work = join(scratch, "work");
      await mkdir(work, { recursive: true });
      const run = await runProcess(
        join(release, "codex-img-linux-x64"),
        ["generate", "a lighthouse at dawn", "-o", "lighthouse.png"],
        {
          cwd: work,
          env: {
            PATH: "",
            HOME: scratch,
            CODEX_IMG_BASE_URL: server.url,
            CODEX_IMG_API_KEY: server.firstKey,
          },
          timeoutMs: 60_000,
        },
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe("lighthouse.png\n");
      const bytes = await readFile(join(work, "lighthouse.png"));
      expect(sniffImage(new Uint8Array(bytes))?.format).toBe("png");
    });
  },
);

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sniffImage } from "@codex-img/core";
import { SERVER_RUNTIMES, type ServerProcess, startServerProcess } from "@codex-img/server/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

/** The service as a real process: it must come up on a fresh machine with no login, on Bun and on Node. */
const ADMIN_PASSWORD = "correct-horse-battery-staple-52";

describe.each(SERVER_RUNTIMES)("the server process on %s", (_name, command) => {
  let dir: string;
  let server: ServerProcess | undefined;
  let url = "";
  let firstKey = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "codex-img-server-"));
    server = await startServerProcess({
      command: await command(),
      args: ["--port", "0", "--data-dir", join(dir, "data")],
      env: { HOME: dir, CODEX_HOMES: join(dir, "no-login"), ADMIN_PASSWORD },
      cwd: dir,
    });
    ({ url, firstKey } = server);
  }, 120_000);

  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it("says loudly that it runs the demo backend and prints a first key once", () => {
    expect(server?.stderr()).toMatch(/demo/i);
    expect(firstKey).toMatch(/^cimg_/);
  });

  it("names the key variable and the real create-key command in its first-start banner", async () => {
    // The banner's last lines may arrive after the key the start helper waits for.
    await vi.waitFor(() => expect(server?.stderr()).toContain("Stop with Ctrl-C"));
    const stderr = server?.stderr() ?? "";
    expect(stderr).toContain('-H "Authorization: Bearer $CODEX_IMG_API_KEY"');
    expect(stderr).not.toContain('$KEY"');
    expect(stderr).toContain("`npx --yes bun@1.4.5 run create-key NAME`");
  });

  it("refuses a busy port with one line naming --port and CODEX_IMG_PORT", async () => {
    const port = new URL(url).port;
    const [file, args] = await command();
    const second = await new Promise<{ code: number | null; stderr: string }>((done) => {
      execFile(
        file,
        [...args, "--port", port, "--data-dir", join(dir, "second")],
        { cwd: dir, env: { PATH: process.env.PATH ?? "", HOME: dir, CODEX_HOMES: join(dir, "no-login") } },
        (error, _stdout, stderr) =>
          done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    expect(second.stderr).toMatch(/--port N or CODEX_IMG_PORT=N/);
    // No stack trace, no raw error object.
    expect(second.stderr).not.toMatch(/^\s+at /m);
    expect(second.stderr).not.toContain("EADDRINUSE");
  }, 60_000);

  it("generates through the predecessor's endpoint and serves the image", async () => {
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toMatchObject({ status: "ok" });
    const reply = await fetch(`${url}/v1/images/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${firstKey}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a lighthouse at dawn", size: "512x512" }),
    });
    expect(reply.status).toBe(200);
    const body = (await reply.json()) as {
      id: string;
      status: string;
      images: Array<{ url: string; expires_at: string }>;
    };
    expect(body).toMatchObject({ status: "succeeded" });
    const image = await fetch(body.images[0]?.url ?? "");
    expect(sniffImage(new Uint8Array(await image.arrayBuffer()))).toEqual({
      format: "png",
      width: 512,
      height: 512,
    });
  });

  it("gives the dashboard the connecting socket's address, not an address a client claims", async () => {
    const headers = { "content-type": "application/json", "x-codex-img-peer-address": "203.0.113.9" };
    const login = await fetch(`${url}/trpc/auth.login`, {
      method: "POST",
      headers,
      body: JSON.stringify({ password: ADMIN_PASSWORD }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers
      .getSetCookie()
      .map((line) => line.split(";")[0])
      .join("; ");
    const me = await fetch(`${url}/trpc/auth.me`, { headers: { ...headers, cookie } });
    expect(me.status).toBe(200);
    const { ip } = ((await me.json()) as { result: { data: { ip: string } } }).result.data;
    expect(ip).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
  });

  it("refuses a request without a key", async () => {
    const reply = await fetch(`${url}/v1/images/generate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "x" }),
    });
    expect(reply.status).toBe(401);
    expect(((await reply.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
  });

  it("shuts down cleanly on SIGTERM", async () => {
    expect(await server?.stop()).toBe(0);
  }, 40_000);
});

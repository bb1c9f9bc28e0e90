import { mkdtemp, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CodexHomeFixture,
  createCodexHome,
  type FakeCodexBackend,
  startFakeCodexBackend,
} from "@codex-img/core/testing";
import {
  fakeUpstreamArgs,
  SERVER_RUNTIMES,
  type ServerProcess,
  startServerProcess,
} from "@codex-img/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeys } from "./support/hardening.js";

/**
 * A synchronous request whose client is gone before the reply is written: its job is canceled and its
 * counts given back, unless it carried an `Idempotency-Key` (then it runs on, counted, for the retry).
 * Through the real server process on Bun and on Node, with a raw socket that sends a whole request and
 * then destroys the connection while upstream is still working.
 */
describe.each(SERVER_RUNTIMES)("a client gone before its reply, on %s", (_name, command) => {
  let dir: string;
  let upstream: FakeCodexBackend;
  let home: CodexHomeFixture;
  let server: ServerProcess | undefined;
  let key = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "codex-img-gone-"));
    upstream = await startFakeCodexBackend();
    home = await createCodexHome({ email: "gone@example.com", plan: "plus" });
    server = await startServerProcess({
      command: await command(),
      args: ["--port", "0", "--data-dir", join(dir, "data"), ...fakeUpstreamArgs(upstream)],
      env: { HOME: dir, CODEX_HOMES: `main=${home.home}` },
      cwd: dir,
    });
    [key = ""] = await createKeys(join(dir, "data"), [
      { name: "two-a-day", scopes: ["generate", "jobs:read"], limits: { imagesPerDay: 2 } },
    ]);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
    await home?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  // A size per request: the fake draws by size, and the server refuses an image it already delivered.
  const bodyOf = (size: string): string => JSON.stringify({ prompt: "a lighthouse", size });

  /** A whole synchronous request, as bytes on the wire. */
  const request = (size: string, extra: string[] = []): string => {
    const body = bodyOf(size);
    return [
      "POST /v1/images/generate HTTP/1.1",
      "Host: 127.0.0.1",
      `Authorization: Bearer ${key}`,
      "Content-Type: application/json",
      `Content-Length: ${Buffer.byteLength(body)}`,
      ...extra,
      "",
      body,
    ].join("\r\n");
  };

  const open = (): Socket => {
    const { hostname, port } = new URL(server?.url ?? "");
    const socket = connect(Number(port), hostname);
    socket.on("error", () => undefined);
    return socket;
  };

  /** Sends a whole synchronous request and returns the open socket (nothing is read from it). */
  const send = (size: string, extra: string[] = []): Socket => {
    const socket = open();
    socket.write(request(size, extra));
    return socket;
  };

  const jobs = async (): Promise<Array<{ id: string; status: string }>> => {
    const reply = await fetch(`${server?.url}/v1/jobs`, { headers: { authorization: `Bearer ${key}` } });
    return ((await reply.json()) as { data: Array<{ id: string; status: string }> }).data;
  };

  const settled = async (count: number): Promise<Array<{ id: string; status: string }>> => {
    for (let i = 0; i < 200; i++) {
      const list = await jobs();
      if (list.length >= count && list.every((job) => !["queued", "running"].includes(job.status))) {
        return list;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return jobs();
  };

  const generate = (size: string): Promise<Response> =>
    fetch(`${server?.url}/v1/images/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: bodyOf(size),
    });

  it("cancels the job of a client that left and does not charge its key; with an Idempotency-Key it runs on, counted", async () => {
    // Upstream holds the first call until it is let go: the client leaves while the job runs.
    upstream.script.images.push({ kind: "stall" });
    const gone = send("1024x1024");
    await upstream.waitForCalls(1);
    gone.destroy();
    expect((await settled(1)).map((job) => job.status)).toEqual(["canceled"]);

    // The same with an Idempotency-Key: upstream answers after the client left; the job completes.
    upstream.script.images.push({ kind: "image", delayMs: 1000 });
    const kept = send("1024x1536", ["Idempotency-Key: gone-1"]);
    await upstream.waitForCalls(2);
    kept.destroy();
    expect((await settled(2)).map((job) => job.status).sort()).toEqual(["canceled", "succeeded"]);

    // Two images a day: the canceled job gave its image back, the idempotent one kept its count.
    expect((await generate("1536x1024")).status).toBe(200);
    const refused = await generate("1024x1024");
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("quota_exhausted");
  }, 60_000);

  // Both runtimes end the connection at the client's FIN (Bun's uWebSockets always; Node's http.Server
  // with its default `httpAllowHalfOpen = false`), so no reply can be written after a half-close: it is a
  // hang-up. Enabling Node's half-open mode would not help: a client that closed entirely also sends just
  // a FIN, and its job would run, counted, for minutes before a write could tell the two apart.
  it("treats a half-close as a hang-up: the runtime cannot answer it, so the job is canceled", async () => {
    // A fresh key with no jobs yet: its only job is this one.
    [key = ""] = await createKeys(join(dir, "data"), [{ name: "open", scopes: ["generate", "jobs:read"] }]);
    upstream.script.images.push({ kind: "stall" });
    const socket = open();
    let text = "";
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
    });
    const closed = new Promise((resolve) => socket.on("close", resolve));
    socket.end(request("1536x1536"));
    await closed;
    expect(text).toBe("");
    // Canceled, or never created when the hang-up was seen before the insert.
    const statuses = (await settled(1)).map((job) => job.status);
    expect(statuses).toEqual(statuses.length ? ["canceled"] : []);
  }, 60_000);
});

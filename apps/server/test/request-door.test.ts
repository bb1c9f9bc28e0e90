import { mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SERVER_RUNTIMES, type ServerProcess, startServerProcess } from "@codex-img/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeys } from "./support/hardening.js";

interface RawReply {
  status: number;
  headers: string;
  body: string;
}

/** A raw HTTP/1.1 exchange, so a test controls exactly what is declared and when bytes arrive. */
function openRaw(url: string): { socket: Socket; reply: Promise<RawReply> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const reply = new Promise<RawReply>((resolve, reject) => {
    let text = "";
    const settle = (): void => {
      const end = text.indexOf("\r\n\r\n");
      if (end === -1) {
        reject(new Error(`no reply: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      const head = text.slice(0, end);
      resolve({ status: Number(head.split(" ")[1]), headers: head.toLowerCase(), body: text.slice(end + 4) });
    };
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(text.slice(0, end))?.[1];
      if (end !== -1 && length !== undefined && text.length >= end + 4 + Number(length)) {
        settle();
        socket.destroy();
      }
    });
    socket.on("close", settle);
    socket.on("error", () => undefined);
  });
  return { socket, reply };
}

function head(path: string, key: string, extra: string[]): string {
  return [
    `POST ${path} HTTP/1.1`,
    "Host: 127.0.0.1",
    `Authorization: Bearer ${key}`,
    "Content-Type: application/json",
    ...extra,
    "",
    "",
  ].join("\r\n");
}

/** Errors the HTTP layer itself raises are the API's JSON errors, through the real process on both runtimes. */
describe.each(SERVER_RUNTIMES)("the request door of the server process on %s", (_name, command) => {
  let dir: string;
  let server: ServerProcess | undefined;
  let url = "";
  let key = "";
  let admin = "";
  let noEdit = "";

  /**
   * A request on a connection of its own (never a pooled one the server may have closed after refusing
   * a body it did not read); `body` chunks are sent as they are given, without a declared length.
   */
  const send = (
    method: "GET" | "POST",
    path: string,
    auth: string,
    body?: string | Uint8Array[],
  ): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { authorization: `Bearer ${auth}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      const request = httpRequest(`${url}${path}`, { method, agent: false, headers }, (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
      });
      // A refusal may come before the whole body is sent; the reply is what the test reads.
      request.on("error", (error) => (request.writableEnded ? undefined : reject(error)));
      if (typeof body === "string") request.end(body);
      else {
        for (const chunk of body ?? []) request.write(chunk);
        request.end();
      }
    });
  /** Request body bytes the server holds now, from its own gauge. */
  const held = async (): Promise<number> => {
    const { text } = await send("GET", "/metrics", admin);
    return Number(/^codex_img_request_body_bytes_held (\d+)$/m.exec(text)?.[1]);
  };
  /** Waits (bounded by the test's timeout, never asserted on time) until every reservation is back. */
  const allReturned = async (): Promise<number> => {
    for (;;) {
      const bytes = await held();
      if (bytes === 0) return bytes;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "codex-img-door-"));
    server = await startServerProcess({
      command: await command(),
      args: [
        "--port",
        "0",
        "--data-dir",
        join(dir, "data"),
        "--request-budget-mb",
        "1",
        "--body-grace-seconds",
        "1",
        "--min-body-rate-kib-per-second",
        "1",
      ],
      env: { HOME: dir, CODEX_HOMES: join(dir, "no-login") },
      cwd: dir,
    });
    ({ url, firstKey: key } = server);
    [admin = "", noEdit = ""] = await createKeys(join(dir, "data"), [
      { name: "metrics", scopes: ["admin"] },
      { name: "no-edit", scopes: ["generate"] },
    ]);
  }, 120_000);

  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a declared body over the limit with a JSON 413 before reading it", async () => {
    const { socket, reply } = openRaw(url);
    socket.write(head("/v1/images/generate", key, ["Content-Length: 100000000"]));
    const answer = await reply;
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "body_too_large", param: "body" } });
  });

  it("refuses oversized headers with a JSON 431, in OpenAI's shape on the OpenAI routes", async () => {
    const big = `X-Padding: ${"a".repeat(20_000)}`;
    const native = openRaw(url);
    native.socket.write(head("/v1/images/generate", key, [big, "Content-Length: 2"]));
    native.socket.write("{}");
    const nativeAnswer = await native.reply;
    expect(nativeAnswer.status).toBe(431);
    expect(JSON.parse(nativeAnswer.body)).toMatchObject({ error: { code: "headers_too_large" } });
    // A refusal at the door still names the request, as every other reply does.
    expect(nativeAnswer.headers).toMatch(/\r\nx-request-id: [0-9a-f-]{36}(\r\n|$)/);
    const openai = openRaw(url);
    openai.socket.write(head("/v1/images/generations", key, [big, "Content-Length: 2"]));
    openai.socket.write("{}");
    const openaiAnswer = await openai.reply;
    expect(openaiAnswer.status).toBe(431);
    expect(JSON.parse(openaiAnswer.body)).toMatchObject({
      error: { code: "headers_too_large", type: "invalid_request_error" },
    });
  });

  it("cuts a body that trickles slower than the floor rate with a JSON 408", async () => {
    const { socket, reply } = openRaw(url);
    socket.write(head("/v1/images/generate", key, ["Content-Length: 100000"]));
    socket.write('{"prompt":"');
    const answer = await reply;
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "body_timeout" } });
  }, 20_000);

  it("answers 503 server_busy with Retry-After while the budget is held by bodies in flight", async () => {
    const holder = openRaw(url);
    // The holder is dropped unanswered at the end; its missing reply is expected.
    holder.reply.catch(() => undefined);
    // 400 KiB, and as much again for the copy its JSON is parsed from: 800 KiB of the 1 MiB budget.
    holder.socket.write(head("/v1/images/generate", key, [`Content-Length: ${400 * 1024}`]));
    holder.socket.write('{"prompt":"');
    // The holder is admitted once its head is read; give the server that moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const response = await fetch(`${url}/v1/images/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "x".repeat(500 * 1024) }),
    });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await response.json()).toMatchObject({ error: { code: "server_busy" } });
    holder.socket.destroy();
  });

  it("refuses a key without the scope before reading a byte of its body", async () => {
    const { socket, reply } = openRaw(url);
    // The head announces 900 KiB (inside the budget) and no body byte is ever sent: a reply can only come
    // from a server that did not wait for the body.
    socket.write(head("/v1/images/edits", noEdit, [`Content-Length: ${900 * 1024}`]));
    const answer = await reply;
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "forbidden" } });
    expect(await allReturned()).toBe(0);
  });

  it("returns a request's reservation on every path: a 4xx at validation, a decoded reference past the budget, a body cut by the budget, an aborted upload", async () => {
    const edit = (reference: string) =>
      send(
        "POST",
        "/v1/images/edits",
        key,
        JSON.stringify({ prompt: "x", images: [{ image_url: reference }] }),
      );
    // 300 KiB of a reference that is not base64: refused 400 once read, and the budget is whole again.
    const invalid = await edit(`data:image/png;base64,${"*".repeat(300 * 1024)}`);
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text)).toMatchObject({
      error: { code: "invalid_request", param: "images.0.image_url" },
    });
    expect(await held()).toBe(0);

    // 500 KiB fit the 1 MiB budget, but not with the copy it is parsed from and the 375 KiB its reference
    // decodes to beside them.
    const tooMuch = await edit(`data:image/png;base64,${"A".repeat(500 * 1024)}`);
    expect(tooMuch.status).toBe(503);
    expect(JSON.parse(tooMuch.text)).toMatchObject({ error: { code: "server_busy" } });
    expect(await held()).toBe(0);

    // No declared length: the body reserves as it arrives and is cut when it passes the 1 MiB budget.
    const chunks = Array.from({ length: 24 }, () => new Uint8Array(64 * 1024).fill(0x20));
    const cut = await send("POST", "/v1/images/generate", key, chunks);
    expect(cut.status).toBe(503);
    expect(JSON.parse(cut.text)).toMatchObject({ error: { code: "server_busy" } });
    expect(await allReturned()).toBe(0);

    // The client hangs up with most of its declared 400 KiB unsent.
    const aborted = openRaw(url);
    aborted.reply.catch(() => undefined);
    aborted.socket.write(head("/v1/images/edits", key, [`Content-Length: ${400 * 1024}`]));
    aborted.socket.write(
      `{"prompt":"x","images":[{"image_url":"data:image/png;base64,${"A".repeat(100 * 1024)}`,
    );
    for (;;) {
      if ((await held()) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    aborted.socket.destroy();
    expect(await allReturned()).toBe(0);
    // And the whole budget serves the next caller.
    const next = await send(
      "POST",
      "/v1/images/generate",
      key,
      JSON.stringify({ prompt: "x".repeat(450 * 1024) }),
    );
    expect(next.status).toBe(400);
    expect(JSON.parse(next.text)).toMatchObject({ error: { code: "invalid_request", param: "prompt" } });
  }, 30_000);
});

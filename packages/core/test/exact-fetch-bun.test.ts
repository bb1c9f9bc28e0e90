import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { FAKE_CA_CERT_PATH, testImage } from "@codex-img/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const BUN = fileURLToPath(new URL("../../../node_modules/.bin/bun", import.meta.url));
const CHILD = fileURLToPath(new URL("./support/exact-fetch-child.ts", import.meta.url));
const TLS = new URL("../src/testing/tls/", import.meta.url);

interface Seen {
  connection: number;
  head: string;
  bodyBytes: number;
}

/**
 * A loopback HTTP/1.1 server written on raw sockets, so each reply's framing is exactly what the case
 * needs (chunks cut into single bytes, a body ended by closing, an interim 100, an idle close) and every
 * request's head is recorded byte for byte.
 */
function rawServer(seen: Seen[]): Server {
  let connections = 0;
  return createServer((socket: Socket) => {
    const connection = ++connections;
    let buffered = Buffer.alloc(0);
    let need: { head: string; length: number } | undefined;
    socket.on("data", (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      for (;;) {
        if (!need) {
          const end = buffered.indexOf("\r\n\r\n");
          if (end === -1) return;
          const head = buffered.subarray(0, end + 4).toString("latin1");
          need = { head, length: Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0) };
          buffered = buffered.subarray(end + 4);
          if (head.startsWith("POST /early ")) {
            // Refused on sight, before the body is read (as an upstream may a body it will not take).
            seen.push({ connection, head, bodyBytes: 0 });
            socket.end(
              "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 8\r\n\r\ntoo big!",
            );
            return;
          }
        }
        if (buffered.length < need.length) return;
        const bodyBytes = need.length;
        const path = need.head.split(" ")[1] ?? "";
        seen.push({ connection, head: need.head, bodyBytes });
        buffered = buffered.subarray(bodyBytes);
        need = undefined;
        reply(socket, path, bodyBytes);
      }
    });
    socket.on("error", () => undefined);
  });
}

/** The image `/images/generations` answers with; the child makes the same one to compare. */
const CHUNKED_IMAGE = testImage("png", 120, 90, 7);

function reply(socket: Socket, path: string, bodyBytes: number): void {
  const send = (text: string): boolean => socket.write(Buffer.from(text, "latin1"));
  if (path === "/images/generations") {
    void CHUNKED_IMAGE.then((png) => sendChunkedImage(socket, png));
    return;
  }
  if (path === "/plain") send("HTTP/1.1 200 OK\r\nX-Order: first\r\nContent-Length: 5\r\n\r\nhello");
  else if (path === "/count")
    send(`HTTP/1.1 200 OK\r\nContent-Length: ${String(bodyBytes).length}\r\n\r\n${bodyBytes}`);
  else if (path === "/chunked") {
    // Every byte in its own write: the reader must find sizes, data and trailers across any cut.
    const bytes =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n";
    let at = 0;
    const next = (): void => {
      if (at < bytes.length) send(bytes[at++] as string);
      if (at < bytes.length) setImmediate(next);
    };
    next();
  } else if (path === "/close") {
    send("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil ");
    setTimeout(() => socket.end("close"), 20);
  } else if (path === "/interim")
    send("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n");
  else if (path === "/idle-close") {
    // A keep-alive reply, then the server drops the idle connection (no `connection: close` said).
    send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    setTimeout(() => socket.destroy(), 100);
  } else if (path === "/stall") send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst");
  else send("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

/**
 * A native image reply in chunked framing, written so that every write ends just inside the next
 * chunk's size line: the line is finished by the next read, after the image bytes before it were read
 * (and their buffer freed, on Bun).
 */
function sendChunkedImage(socket: Socket, png: Uint8Array): void {
  const body = Buffer.from(`{"data":[{"b64_json":"${Buffer.from(png).toString("base64")}"}]}`);
  let framed = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  const writes: string[] = [];
  for (let at = 0; at < body.length; at += 777) {
    const piece = body.subarray(at, at + 777);
    const size = piece.length.toString(16);
    writes.push(`${framed}${size.slice(0, 1)}`);
    framed = `${size.slice(1)}\r\n${piece.toString("latin1")}\r\n`;
  }
  writes.push(`${framed}0\r\n\r\n`);
  const next = (): void => {
    const write = writes.shift();
    if (write === undefined) return;
    socket.write(Buffer.from(write, "latin1"));
    setTimeout(next, 2);
  };
  next();
}

describe("createExactFetch on Bun (its own socket transport)", () => {
  const seen: Seen[] = [];
  let server: Server;
  let secure: ReturnType<typeof createHttpsServer>;
  let results: Map<string, Record<string, unknown>>;
  let port = 0;

  beforeAll(async () => {
    server = rawServer(seen);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
    secure = createHttpsServer(
      { key: readFileSync(new URL("server-key.pem", TLS)), cert: readFileSync(new URL("server.pem", TLS)) },
      (_req, res) => res.end("secure"),
    );
    await new Promise<void>((resolve) => secure.listen(0, "127.0.0.1", resolve));
    const securePort = (secure.address() as { port: number }).port;
    // A failing child rejects with its stderr in the message.
    const { stdout } = await run(BUN, [
      "--conditions=source",
      CHILD,
      `http://127.0.0.1:${port}`,
      `https://127.0.0.1:${securePort}`,
      FAKE_CA_CERT_PATH,
    ]);
    results = new Map(
      stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .map((result) => [String(result.name), result]),
    );
  }, 60_000);

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await new Promise((resolve) => secure.close(resolve));
  });

  const plainHead = (): string =>
    "POST /plain HTTP/1.1\r\nuser-agent: ua/1\r\nauthorization: Bearer t\r\ncontent-type: application/json\r\n" +
    `host: 127.0.0.1:${port}\r\ncontent-length: 7\r\n\r\n`;

  it("writes the request head exactly as given, then host and content-length, as node:http does", () => {
    expect(results.get("plain")).toMatchObject({ status: 200, order: "first", text: "hello" });
    expect(results.get("node-http")).toMatchObject({ status: 200, text: "hello" });
    const plain = seen.filter((s) => s.head.startsWith("POST /plain "));
    expect(plain.length).toBeGreaterThanOrEqual(3);
    for (const request of plain) expect(request.head).toBe(plainHead());
  });

  it("keeps the connection alive between requests", () => {
    const [first, second] = seen.filter((s) => s.head.startsWith("POST /plain "));
    expect(results.get("plain-again")).toMatchObject({ status: 200, text: "hello" });
    expect(second?.connection).toBe(first?.connection);
  });

  it("reads chunked bodies cut anywhere, bodies ended by a close, and skips interim replies", () => {
    expect(results.get("chunked")).toMatchObject({ status: 200, text: "hello world" });
    expect(results.get("close-delimited")).toMatchObject({ status: 200, text: "until close" });
    expect(results.get("interim")).toMatchObject({ status: 204, a: "b", body: true });
  });

  it("streams a request body of a given length whole", () => {
    expect(results.get("streamed-body")).toMatchObject({ status: 200, text: String(4 * 1024 * 1024) });
    expect(seen.find((s) => s.head.startsWith("POST /count "))?.bodyBytes).toBe(4 * 1024 * 1024);
  });

  it("hands on a reply that comes before the streamed body is sent, and stops reading the body", () => {
    expect(results.get("early-reply")).toMatchObject({ status: 413, text: "too big!", cancelled: true });
  });

  it("sends a request again on a new connection when the server dropped the idle one", () => {
    expect(results.get("idle-close")).toMatchObject({ status: 200, text: "hello" });
    const idle = seen.find((s) => s.head.startsWith("GET /idle-close "));
    const after = seen.filter((s) => s.head.startsWith("POST /plain ")).at(-1);
    expect(after?.connection).not.toBe(idle?.connection);
  });

  it("stops reading a body when the call is aborted", () => {
    expect(results.get("abort")).toMatchObject({ status: 200, first: "first", rest: "AbortError" });
  });

  it("stores an image from a chunked reply whose size lines are cut across reads, byte for byte", () => {
    expect(results.get("chunked-image")).toMatchObject({ images: 1, same: true });
  });

  it("speaks TLS with an extra CA", () => {
    expect(results.get("tls")).toMatchObject({ status: 200, text: "secure" });
  });
});

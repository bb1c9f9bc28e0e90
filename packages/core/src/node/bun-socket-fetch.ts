import type { ExactFetchOptions } from "./exact-fetch.js";
import { type ExactRequest, exactRequest } from "./exact-request.js";
import { type Http1ResponseHead, Http1ResponseReader } from "./http1-response-reader.js";

/** The part of a Bun socket this uses. */
interface BunSocket {
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  ref(): void;
  unref(): void;
  setNoDelay(noDelay: boolean): void;
}

interface BunSocketHandlers {
  data(socket: BunSocket, data: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket, error?: Error): void;
  error(socket: BunSocket, error: Error): void;
}

/** `Bun.connect`, as far as this uses it. */
export type BunConnect = (options: {
  hostname: string;
  port: number;
  tls?: { ca?: string | Buffer; serverName?: string } | boolean;
  socket: BunSocketHandlers;
}) => Promise<BunSocket>;

/** An idle connection older than this is closed rather than reused (servers drop idle ones first). */
const IDLE_MS = 30_000;
/** Idle connections kept per origin; more are closed. */
const MAX_IDLE_PER_ORIGIN = 32;
/** A body up to this size goes out in one write with the head. */
const SMALL_BODY_BYTES = 64 * 1024;

/** What a connection's socket events go to while it carries a request. */
interface Listener {
  data(bytes: Uint8Array): void;
  drain(): void;
  closed(error?: Error): void;
}

interface Connection {
  socket: BunSocket;
  closed: boolean;
  /** It carried a request before this one: a close before any reply byte may be its idle end. */
  reused: boolean;
  idleSince: number;
  listener: Listener | undefined;
}

/**
 * `createExactFetch` on Bun: the request head is written by hand over Bun's own sockets (`Bun.connect`,
 * TLS with `options.ca` for https) and the reply is read by `Http1ResponseReader`, its body handed on as
 * the socket's own buffers. Bun's `node:http` client is JavaScript over a socket too, with a parser
 * callback, an `IncomingMessage` and stream events per chunk: reading a 2 MB reply this way costs about a
 * third of its CPU (docs/performance.md). Connections are kept alive per origin; one that closes before
 * any byte of its reply, after carrying an earlier request, is the server's idle close: a request whose
 * body is in memory is then sent again once on a new connection.
 */
export function createBunSocketFetch(connect: BunConnect, options: ExactFetchOptions = {}): typeof fetch {
  const idle = new Map<string, Connection[]>();

  const open = async (request: ExactRequest): Promise<Connection> => {
    const { url, secure } = request;
    const hostname = url.hostname.replace(/^\[|\]$/g, "");
    const connection: Connection = {
      socket: undefined as unknown as BunSocket,
      closed: false,
      reused: false,
      idleSince: 0,
      listener: undefined,
    };
    const closed = (error?: Error): void => {
      connection.closed = true;
      connection.listener?.closed(error);
    };
    connection.socket = await connect({
      hostname,
      port: Number(url.port || (secure ? 443 : 80)),
      ...(secure ? { tls: tlsOptions(hostname, options.ca) } : {}),
      socket: {
        data: (_socket, data) => connection.listener?.data(data),
        drain: () => connection.listener?.drain(),
        end: () => closed(),
        close: (_socket, error) => closed(error),
        error: (_socket, error) => closed(error),
      },
    });
    connection.socket.setNoDelay(true);
    return connection;
  };

  const acquire = async (request: ExactRequest): Promise<Connection> => {
    const list = idle.get(request.url.origin);
    const now = Date.now();
    for (let connection = list?.pop(); connection; connection = list?.pop()) {
      if (connection.closed) continue;
      if (now - connection.idleSince > IDLE_MS) {
        connection.socket.terminate();
        continue;
      }
      connection.socket.ref();
      return connection;
    }
    return open(request);
  };

  const release = (origin: string, connection: Connection): void => {
    connection.listener = undefined;
    let list = idle.get(origin);
    if (!list) {
      list = [];
      idle.set(origin, list);
    }
    // Closed idle connections are dropped here rather than searched for when they close.
    const open = list.filter((c) => !c.closed);
    if (connection.closed || open.length >= MAX_IDLE_PER_ORIGIN) {
      connection.socket.terminate();
      idle.set(origin, open);
      return;
    }
    connection.reused = true;
    connection.idleSince = Date.now();
    // Paused while the last chunk of the reply waited unread: an idle connection must notice its close.
    connection.socket.resume();
    // An idle connection does not keep the process alive (as `node:http`'s agent does).
    connection.socket.unref();
    open.push(connection);
    idle.set(origin, open);
  };

  const socketFetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const request = await exactRequest(input, init);
    const replayable = !(request.body instanceof ReadableStream);
    for (let attempt = 0; ; attempt++) {
      // A retry after an idle close goes on a new connection: the other idle ones may be as stale.
      const connection = await (attempt === 0 ? acquire(request) : open(request)).catch(
        async (error: unknown) => {
          if (request.body instanceof ReadableStream) await request.body.cancel().catch(() => undefined);
          throw error;
        },
      );
      try {
        return await exchange(connection, request, (c) => release(request.url.origin, c));
      } catch (error) {
        if (error instanceof IdleClose && replayable && attempt === 0) continue;
        throw error instanceof IdleClose ? error.cause : error;
      }
    }
  };
  return socketFetch as typeof fetch;
}

/** The connection closed before any byte of the reply after carrying an earlier request. */
class IdleClose extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

/**
 * One request on `connection`: writes the head and the body (waiting for the socket to drain, so a
 * streamed body is held a chunk at a time), resolves with the response once its head is read, streams
 * its body with backpressure (the socket pauses while a chunk waits unread), and gives the connection
 * back through `done` when both directions ended cleanly and the server keeps it alive.
 */
function exchange(
  connection: Connection,
  request: ExactRequest,
  done: (connection: Connection) => void,
): Promise<Response> {
  const { socket } = connection;
  const { signal } = request;
  return new Promise<Response>((resolve, reject) => {
    let responded = false;
    let received = false;
    let settled = false;
    let sent = false;
    let body: ReadableStreamDefaultController<Uint8Array> | undefined;
    let waitingDrain: (() => void) | undefined;
    let failWrite: ((error: Error) => void) | undefined;

    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      connection.listener = undefined;
      signal?.removeEventListener("abort", onAbort);
      socket.terminate();
      failWrite?.(error);
      if (!responded) reject(connection.reused && !received ? new IdleClose(error) : error);
      else body?.error(error);
    };
    const finish = (): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      body?.close();
      if (sent && reader.keepAlive && !connection.closed) done(connection);
      else {
        connection.listener = undefined;
        socket.terminate();
      }
    };
    const onAbort = (): void => {
      const reason = signal?.reason ?? new DOMException("The operation was aborted.", "AbortError");
      if (!responded) {
        settled = true;
        connection.listener = undefined;
        socket.terminate();
        failWrite?.(toError(reason));
        reject(reason);
        return;
      }
      fail(toError(reason));
    };

    const reader = new Http1ResponseReader(
      {
        head(head) {
          responded = true;
          const hasBody = !reader.complete;
          const stream = hasBody
            ? new ReadableStream<Uint8Array>({
                start(controller) {
                  body = controller;
                },
                pull() {
                  socket.resume();
                },
                cancel() {
                  if (settled) return;
                  settled = true;
                  connection.listener = undefined;
                  signal?.removeEventListener("abort", onAbort);
                  socket.terminate();
                },
              })
            : null;
          try {
            resolve(toResponse(head, stream));
          } catch (error) {
            responded = false;
            fail(toError(error));
          }
        },
        body(bytes) {
          if (!body || bytes.length === 0) return;
          body.enqueue(bytes);
          if ((body.desiredSize ?? 0) <= 0) socket.pause();
        },
      },
      request.method === "HEAD",
    );

    connection.listener = {
      data(bytes) {
        if (settled) return;
        received = true;
        try {
          if (reader.push(bytes)) finish();
        } catch (error) {
          fail(toError(error));
        }
      },
      drain() {
        waitingDrain?.();
      },
      closed(error) {
        if (settled) return;
        try {
          reader.end();
          finish();
        } catch (cut) {
          fail(error ?? toError(cut));
        }
      },
    };
    if (signal?.aborted) {
      onAbort();
      return;
    }
    if (signal) signal.addEventListener("abort", onAbort, { once: true });

    /** Writes all of `bytes`, waiting for the socket to drain when it takes only part of them. */
    const writeAll = (bytes: Uint8Array): Promise<void> =>
      new Promise<void>((written, failed) => {
        let at = 0;
        const more = (): void => {
          if (settled && !responded) {
            failed(new Error("The request was not sent."));
            return;
          }
          const wrote = socket.write(at === 0 ? bytes : bytes.subarray(at));
          if (wrote < 0) {
            failed(new Error("The connection closed while the request was sent."));
            return;
          }
          at += wrote;
          if (at >= bytes.length) {
            waitingDrain = undefined;
            failWrite = undefined;
            written();
          }
        };
        waitingDrain = more;
        failWrite = failed;
        more();
      });

    const head = encodeHead(request);
    void (async () => {
      try {
        if (request.body instanceof ReadableStream) {
          const source = request.body.getReader();
          try {
            await writeAll(head);
            for (;;) {
              const { done: ended, value } = await source.read();
              if (ended) break;
              await writeAll(value);
            }
          } catch (error) {
            await source.cancel().catch(() => undefined);
            throw error;
          }
        } else if (request.body && request.body.length > SMALL_BODY_BYTES) {
          await writeAll(head);
          await writeAll(request.body);
        } else {
          await writeAll(request.body ? concat(head, request.body) : head);
        }
        sent = true;
        if (reader.complete && settled === false) finish();
      } catch (error) {
        fail(toError(error));
      }
    })();
  });
}

function encodeHead(request: ExactRequest): Uint8Array {
  const { method, url, headers } = request;
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  return new TextEncoder().encode(`${head}\r\n`);
}

function toResponse(head: Http1ResponseHead, body: ReadableStream<Uint8Array> | null): Response {
  const headers = new Headers();
  for (const [name, value] of head.rawHeaders) headers.append(name, value);
  return new Response(body, { status: head.status, statusText: head.statusText, headers });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Bun's TLS options: the extra CA (which, as in Node, replaces the default list) and SNI for a name. */
function tlsOptions(
  hostname: string,
  ca: string | Buffer | undefined,
): { ca?: string | Buffer; serverName?: string } | true {
  const serverName = isIp(hostname) ? undefined : hostname;
  if (!ca && !serverName) return true;
  return { ...(ca ? { ca } : {}), ...(serverName ? { serverName } : {}) };
}

function isIp(hostname: string): boolean {
  return /^[\d.]+$/.test(hostname) || hostname.includes(":");
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new DOMException("The operation was aborted.", "AbortError");
}

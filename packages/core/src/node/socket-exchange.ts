import { concatBytes } from "../image/concat-bytes.js";
import { markDisposable } from "../storage/dispose-chunk.js";
import { type ExactRequest, toError } from "./exact-request.js";
import { type Http1ResponseHead, Http1ResponseReader } from "./http1-response-reader.js";

/** The part of a Bun socket this uses. */
export interface BunSocket {
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  ref(): void;
  unref(): void;
  setNoDelay(noDelay: boolean): void;
}

export interface BunSocketHandlers {
  data(socket: BunSocket, data: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket, error?: Error): void;
  error(socket: BunSocket, error: Error): void;
}

/** What a connection's socket events go to while it carries a request. */
export interface Listener {
  data(bytes: Uint8Array): void;
  drain(): void;
  closed(error?: Error): void;
}

export interface Connection {
  socket: BunSocket;
  closed: boolean;
  /** It carried a request before this one: a close before any reply byte may be its idle end. */
  reused: boolean;
  idleSince: number;
  listener: Listener | undefined;
}

/** A body up to this size goes out in one write with the head. */
const SMALL_BODY_BYTES = 64 * 1024;

/** The connection closed before any byte of the reply after carrying an earlier request. */
export class IdleClose extends Error {
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
export function exchange(
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
    /** The last piece of body that the socket's current read gave (`markDisposable`). */
    let lastBody: Uint8Array | undefined;
    let failWrite: ((error: Error) => void) | undefined;

    /** Ends the exchange: no more socket events or abort, the socket closed, a pending write failed. */
    const stop = (writeError: Error): void => {
      settled = true;
      connection.listener = undefined;
      signal?.removeEventListener("abort", onAbort);
      socket.terminate();
      failWrite?.(writeError);
    };
    const fail = (error: Error): void => {
      if (settled) return;
      stop(error);
      if (!responded) reject(connection.reused && !received ? new IdleClose(error) : error);
      else body?.error(error);
    };
    const finish = (): void => {
      if (settled) return;
      body?.close();
      if (sent && reader.keepAlive && !connection.closed) {
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        done(connection);
        return;
      }
      // The reply may have come before the whole body was sent (a refusal): the rest is not sent, and
      // its source is cancelled, which closes what it reads from.
      stop(new Error("The upstream replied before the request body was sent."));
    };
    const onAbort = (): void => {
      const reason = signal?.reason ?? new DOMException("The operation was aborted.", "AbortError");
      if (responded) {
        fail(toError(reason));
        return;
      }
      stop(toError(reason));
      reject(reason);
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
                  if (!settled) stop(new Error("The reply was cancelled."));
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
          lastBody = bytes;
          if ((body.desiredSize ?? 0) <= 0) socket.pause();
        },
      },
      request.method === "HEAD",
    );

    connection.listener = {
      data(bytes) {
        if (settled) return;
        received = true;
        lastBody = undefined;
        try {
          const complete = reader.push(bytes);
          // The read's buffer is this reply's alone: its last piece frees it once read (the head was
          // parsed and copied from it already).
          if (lastBody) markDisposable(lastBody);
          if (complete) finish();
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
          if (settled) {
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
          await writeAll(request.body ? concatBytes([head, request.body]) : head);
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

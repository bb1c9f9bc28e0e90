import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { type BunConnect, createBunSocketFetch } from "./bun-socket-fetch.js";
import { exactRequest, toError } from "./exact-request.js";

export interface ExactFetchOptions {
  /** Extra trusted CA certificates (PEM), e.g. the throwaway CA of a loopback fake. */
  ca?: string | Buffer;
  /**
   * How requests go out: on Bun, by default, over Bun's own sockets (`createBunSocketFetch`: reading a
   * 2 MB reply costs ~2.0 ms of CPU where `node:http` takes ~3.4 ms); `"node:http"` forces `node:http(s)`,
   * which Node and Deno always use.
   */
  transport?: "auto" | "node:http";
}

/**
 * A `fetch` that puts on the wire exactly the headers it is given, in the given order, followed by
 * `host` and `content-length` as the official CLI's HTTP client does (upstream.md Appendix A), and
 * nothing else: the runtimes' own `fetch` adds `accept-encoding`, `connection`, `accept-language`,
 * `sec-fetch-mode` and (Bun) reorders and capitalises. On Bun it writes the request itself over Bun's
 * sockets; elsewhere it is built on `node:http(s)`, which sends headers verbatim. Reply bodies stream
 * (never buffered here), and so does a `ReadableStream` request body given with its `content-length`
 * (written chunk by chunk as the socket drains); `signal` aborts the connection.
 */
export function createExactFetch(options: ExactFetchOptions = {}): typeof fetch {
  const connect = (globalThis as { Bun?: { connect?: BunConnect } }).Bun?.connect;
  if (connect && options.transport !== "node:http") return createBunSocketFetch(connect, options);
  const httpsAgent = new HttpsAgent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) });
  const httpAgent = new HttpAgent({ keepAlive: true });

  const exactFetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const { method, url, secure, headers: ordered, body, signal } = await exactRequest(input, init);
    // A plain object keeps insertion order, and Node and Bun write it in that order.
    const headers: OutgoingHttpHeaders = Object.fromEntries(ordered);
    return await new Promise<Response>((resolve, reject) => {
      const send = secure ? httpsRequest : httpRequest;
      const req = send(url, {
        method,
        agent: secure ? httpsAgent : httpAgent,
        headers,
        setHost: false,
      });
      // Without this Node and Bun append `Connection: keep-alive`; HTTP/1.1 keeps the socket open anyway.
      req.removeHeader("connection");
      const onAbort = (): void => {
        const reason = signal?.reason ?? new DOMException("The operation was aborted.", "AbortError");
        req.destroy(reason instanceof Error ? reason : new Error(String(reason)));
        reject(reason);
      };
      if (signal) signal.addEventListener("abort", onAbort, { once: true });
      req.on("error", (error) => {
        signal?.removeEventListener("abort", onAbort);
        reject(error);
      });
      req.on("response", (res: IncomingMessage) => {
        signal?.removeEventListener("abort", onAbort);
        if (signal) {
          signal.addEventListener("abort", () => res.destroy(toError(signal.reason)), { once: true });
        }
        resolve(toResponse(res));
      });
      if (body instanceof ReadableStream) writeStream(req, body);
      else req.end(body);
    });
  };
  return exactFetch as typeof fetch;
}

/**
 * Sends a streamed body one chunk at a time, waiting for the socket to drain (so only a chunk or two is
 * held, whatever the body's size). A failing source destroys the request; a failed request cancels the
 * source, which closes whatever it reads from.
 */
function writeStream(req: ClientRequest, stream: ReadableStream<Uint8Array>): void {
  const reader = stream.getReader();
  let failed = false;
  req.once("error", () => {
    failed = true;
    reader.cancel().catch(() => undefined);
  });
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || failed) break;
        if (!req.write(value))
          await new Promise<void>((resume) => {
            const go = (): void => {
              req.off("drain", go);
              req.off("close", go);
              resume();
            };
            req.on("drain", go);
            req.on("close", go);
          });
      }
      if (!failed) req.end();
    } catch (error) {
      req.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  })();
}

function toResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    headers.append(res.rawHeaders[i] ?? "", res.rawHeaders[i + 1] ?? "");
  }
  const status = res.statusCode ?? 502;
  const noBody = status === 204 || status === 304 || status < 200;
  if (noBody) res.resume();
  const body = noBody ? null : messageStream(res);
  return new Response(body, { status, statusText: res.statusMessage ?? "", headers });
}

/**
 * The reply's chunks as a web stream, each handed on as a view of node:http's own buffer (`Readable.toWeb`
 * copies every chunk, ~6.5 % of the server's CPU under load). The socket is paused while a chunk waits
 * unread and resumed on the next read (backpressure); a destroyed reply (abort, reset) errors the stream
 * and a cancelled stream destroys the reply, releasing the connection.
 */
function messageStream(res: IncomingMessage): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        controller.error(error);
      };
      res.on("data", (chunk: Buffer) => {
        if (settled) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) res.pause();
      });
      res.once("end", () => {
        if (settled) return;
        settled = true;
        controller.close();
      });
      res.once("error", fail);
      // A connection cut before the reply's end: no `end`, and not every runtime emits `error` first.
      res.once("close", () => fail(new Error("The connection closed before the reply ended.")));
    },
    pull() {
      res.resume();
    },
    cancel(reason) {
      settled = true;
      res.destroy(reason instanceof Error ? reason : undefined);
    },
  });
}

import type { AddressInfo, Socket } from "node:net";
import type { ServerBindings } from "@codex-img/api";
import { type HttpBindings, serve as serveNode } from "@hono/node-server";

/** Hono's `app.fetch` shape: the peer address travels as bindings, not inside the `Request`. */
export type FetchHandler = (request: Request, server: ServerBindings) => Response | Promise<Response>;

export interface HttpServer {
  /** `http://host:port` actually bound (port 0 picks a free one). */
  url: string;
  port: number;
  /** Stops accepting connections; resolves when open ones are done. */
  close(): Promise<void>;
}

/**
 * Listens with the runtime's own server: `Bun.serve` on Bun, `@hono/node-server` on Node. The handler
 * gets the `Request` and `ServerBindings`, so the app itself knows nothing of the runtime. The peer address
 * is looked up only when asked for (sign-in, audit log): the runtime's lookup on every request cost ~8 %
 * of the control plane's CPU.
 */
export async function serveHttp(
  handler: FetchHandler,
  options: { host: string; port: number },
): Promise<HttpServer> {
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  if (bun) {
    const server = bun.serve({
      hostname: options.host,
      port: options.port,
      fetch: (request, self) => handler(request, { peerAddress: () => self.requestIP(request)?.address }),
      // Image generation can take minutes; the sync endpoints hold the request that long. Slow request
      // bodies are cut by the API's door (408 body_timeout), not by the connection's idle time.
      idleTimeout: 0,
      // The API's door refuses oversized bodies with a JSON 413; Bun's own refusal has an empty body.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    });
    return {
      url: `http://${hostForUrl(options.host)}:${server.port}`,
      port: server.port,
      async close() {
        await server.stop(false);
      },
    };
  }
  const server = await new Promise<ReturnType<typeof serveNode>>((resolve, reject) => {
    const created = serveNode(
      {
        fetch: (request, env) =>
          handler(request, { peerAddress: () => (env as HttpBindings).incoming.socket.remoteAddress }),
        hostname: options.host,
        port: options.port,
        // Room above the API's own header limit (16 KiB), which answers in JSON; see onClientError.
        serverOptions: { maxHeaderSize: RUNTIME_MAX_HEADER_BYTES },
      },
      () => resolve(created),
    );
    // A busy port is an `error` event, not a throw; the caller turns it into a message.
    created.once("error", reject);
  });
  server.on("clientError", onClientError);
  // Node's default request timeout (5 min) would cut long synchronous generations.
  (server as unknown as { requestTimeout: number }).requestTimeout = 0;
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${hostForUrl(options.host)}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Headers beyond what the runtime parses at all (`--max-http-header-size` for Bun, set where the server is
 * started; `maxHeaderSize` here for Node). Below it the API's door answers a JSON 431.
 */
const RUNTIME_MAX_HEADER_BYTES = 64 * 1024;

/**
 * Node answers a request it cannot parse with a bare status line; this one keeps the API's JSON error
 * shape for the two a caller can cause by size (431) or by stalling (408), and closes the connection.
 */
function onClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "headers_too_large", "The request headers are too large."]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "body_timeout", "The request did not arrive in time."]
        : [400, "invalid_request", "The request is not valid HTTP."];
  const body = JSON.stringify({ error: { code, message }, detail: message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

interface BunServer {
  requestIP(request: Request): { address: string } | null;
}

interface BunLike {
  serve(options: {
    hostname: string;
    port: number;
    fetch: (request: Request, server: BunServer) => Response | Promise<Response>;
    idleTimeout: number;
    maxRequestBodySize: number;
  }): { port: number; stop(closeActive: boolean): Promise<void> };
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

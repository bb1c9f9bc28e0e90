import type { AddressInfo } from "node:net";
import { PEER_ADDRESS_HEADER } from "@codex-img/api";
import { serve as serveNode } from "@hono/node-server";

export type FetchHandler = (request: Request) => Response | Promise<Response>;

export interface HttpServer {
  /** `http://host:port` actually bound (port 0 picks a free one). */
  url: string;
  port: number;
  /** Stops accepting connections; resolves when open ones are done. */
  close(): Promise<void>;
}

/**
 * Listens with the runtime's own server: `Bun.serve` on Bun, `@hono/node-server` on Node. The handler
 * is a plain `(Request) => Response`, so the app itself knows nothing of the runtime.
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
      fetch: (request, self) => handler(withPeer(request, self.requestIP(request)?.address)),
      // Image generation can take minutes; the sync endpoints hold the request that long.
      idleTimeout: 0,
      maxRequestBodySize: 64 * 1024 * 1024,
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
    const created = serveNode({ fetch: handler, hostname: options.host, port: options.port }, () =>
      resolve(created),
    );
    // A busy port is an `error` event, not a throw; the caller turns it into a message.
    created.once("error", reject);
  });
  // Node's default request timeout (5 min) would cut long synchronous generations.
  (server as unknown as { requestTimeout: number }).requestTimeout = 0;
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${hostForUrl(options.host)}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The socket's address for login throttling and the audit log; a client-sent value is overwritten. */
function withPeer(request: Request, address: string | undefined): Request {
  const headers = new Headers(request.headers);
  if (address) headers.set(PEER_ADDRESS_HEADER, address);
  else headers.delete(PEER_ADDRESS_HEADER);
  return new Request(request, { headers });
}

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

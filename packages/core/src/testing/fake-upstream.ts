import { once } from "node:events";
import { readFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { decompress as zstdDecompress } from "fzstd";
import type { FakeHandler, RecordedRequest } from "./fake-upstream-types.js";

export interface FakeUpstreamOptions {
  /** Serve HTTPS with the committed throwaway test CA (needed by the real `codex` CLI). */
  tls?: boolean;
  /** Routes tried in order; the first that returns true answered. Unmatched requests get 404 JSON. */
  handlers: FakeHandler[];
}

export interface FakeUpstreamServer {
  /** `http(s)://127.0.0.1:PORT` */
  origin: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Destroys open connections (including stalled streams) and stops listening. */
  close(): Promise<void>;
}

const TLS_DIR = new URL("./tls/", import.meta.url);

/** Path of the throwaway CA certificate that signs the fake's TLS certificate (for `CODEX_CA_CERTIFICATE`). */
export const FAKE_CA_CERT_PATH: string = new URL("ca.pem", TLS_DIR).pathname;

/**
 * Loopback HTTP(S) server that records requests and dispatches them to handlers. The Codex-specific
 * behaviour lives in the handlers (see `fake-codex-backend.ts`); this file is only transport.
 */
export async function startFakeUpstreamServer(options: FakeUpstreamOptions): Promise<FakeUpstreamServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const listener = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const raw = await readBody(req);
      const encoding = headerValue(req.headers["content-encoding"]);
      const body = encoding === "zstd" ? Buffer.from(zstdDecompress(raw)) : raw;
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers: req.headers,
        rawHeaders: pairs(req.rawHeaders),
        rawBodyLength: raw.length,
        body,
        json: parseJson(body),
        ...(encoding ? { contentEncoding: encoding } : {}),
      };
      requests.push(recorded);
      for (const handler of options.handlers) {
        if (await handler(recorded, res, req)) return;
      }
      sendJson(res, 404, { detail: "Not Found" });
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { detail: `fake upstream error: ${String(error)}` });
      else res.destroy();
    }
  };

  const server: Server = options.tls
    ? createHttpsServer(
        {
          key: readFileSync(new URL("server-key.pem", TLS_DIR)),
          cert: readFileSync(new URL("server.pem", TLS_DIR)),
        },
        listener,
      )
    : createHttpServer(listener);

  // The real CLI first tries a WebSocket upgrade on /responses; 426 makes it fall back to SSE at once.
  server.on("upgrade", (_req: IncomingMessage, socket: Socket) => {
    socket.end("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("secureConnection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] ?? "", raw[i + 1] ?? ""]);
  return out;
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

import type { ExactFetchOptions } from "./exact-fetch.js";
import { type ExactRequest, exactRequest } from "./exact-request.js";
import {
  type BunSocket,
  type BunSocketHandlers,
  type Connection,
  exchange,
  IdleClose,
} from "./socket-exchange.js";

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
/**
 * `createExactFetch` on Bun: the request head is written by hand over Bun's own sockets (`Bun.connect`,
 * TLS with `options.ca` for https) and the reply is read by `Http1ResponseReader`, its body handed on as
 * the socket's own buffers. Bun's `node:http` client is JavaScript over a socket too, with a parser
 * callback, an `IncomingMessage` and stream events per chunk: reading a 2 MB reply this way costs ~2.0 ms
 * of CPU against its ~3.4 ms (docs/performance.md). Connections are kept alive per origin; one that closes before
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
        // A plain view, not Bun's `Buffer`: readers copy what they keep with `slice()`, which on a
        // `Buffer` is a view, and the read's buffer may be freed once its body is read (`markDisposable`).
        data: (_socket, data) =>
          connection.listener?.data(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
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

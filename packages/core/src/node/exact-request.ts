/** A `fetch` call's request as `createExactFetch` puts it on the wire: every header in order, and the body. */
export interface ExactRequest {
  method: string;
  url: URL;
  secure: boolean;
  /** The given headers in the given order, then `host`, then `content-length` (where the CLI has them). */
  headers: Array<[string, string]>;
  /** Whole, or a stream sent with the given `content-length`. */
  body: Uint8Array | ReadableStream<Uint8Array> | undefined;
  signal: AbortSignal | undefined;
}

/**
 * Reads a `fetch(input, init)` call into the request `createExactFetch` sends, whichever transport sends
 * it: the headers exactly as given (no `accept-encoding`, `connection` or others added), `host` and
 * `content-length` after them as the official CLI's client writes them (upstream.md Appendix A). A stream
 * body must come with its `content-length` (the CLI never sends chunked bodies); it is cancelled otherwise.
 */
export async function exactRequest(input: RequestInfo | URL, init: RequestInit = {}): Promise<ExactRequest> {
  if (input instanceof Request) throw new TypeError("exact fetch takes a URL and init, not a Request");
  const url = new URL(String(input));
  const secure = url.protocol === "https:";
  if (!secure && url.protocol !== "http:") throw new TypeError(`unsupported protocol ${url.protocol}`);
  const stream = init.body instanceof ReadableStream ? (init.body as ReadableStream<Uint8Array>) : undefined;
  const body = stream ?? (await bodyBytes(init.body));
  const method = init.method ?? "GET";
  const headers: Array<[string, string]> = [];
  let declaredLength: string | undefined;
  for (const [name, value] of headerPairs(init.headers)) {
    if (name.toLowerCase() === "content-length") declaredLength = value;
    else headers.push([name, value]);
  }
  headers.push(["host", url.host]);
  if (stream) {
    if (declaredLength === undefined) {
      await stream.cancel().catch(() => undefined);
      throw new TypeError("exact fetch sends a streamed body only with its content-length");
    }
    headers.push(["content-length", declaredLength]);
  } else if (body !== undefined || method !== "GET") {
    headers.push(["content-length", String((body as Uint8Array | undefined)?.length ?? 0)]);
  }
  const signal = init.signal ?? undefined;
  signal?.throwIfAborted();
  return { method, url, secure, headers, body, signal };
}

function headerPairs(headers: HeadersInit | undefined): Array<[string, string]> {
  if (!headers) return [];
  if (Array.isArray(headers)) return headers.map(([name, value]) => [String(name), String(value)]);
  if (headers instanceof Headers) return [...headers.entries()];
  return Object.entries(headers).map(([name, value]) => [name, String(value)]);
}

async function bodyBytes(body: BodyInit | null | undefined): Promise<Uint8Array | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  // Forms are not what the Codex requests send; read them whole through a Response.
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/** An abort reason as an `Error` (a signal's reason may be anything). */
export function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new DOMException("The operation was aborted.", "AbortError");
}

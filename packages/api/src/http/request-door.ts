import { CodexImgError, noteGarbage } from "@codex-img/core";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.js";

export interface RequestDoorOptions {
  /** Largest request body, declared or counted. */
  maxBodyBytes: number;
  /** Largest request head (names, values and line framing of every header). */
  maxHeaderBytes: number;
  /** Request body bytes the whole server holds at once; beyond it requests get `server_busy`. */
  budgetBytes: number;
  /** A body arriving slower than this, once `bodyGraceMs` has passed, is cut with `body_timeout`. */
  minBodyBytesPerSecond: number;
  /** Time a body may take before the floor rate applies (connection setup, a short stall). */
  bodyGraceMs: number;
}

/** Default largest request head: the 16 KiB that Node and Bun use themselves. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** How long a caller refused for the budget waits: bodies in flight take about this long to land. */
const BUSY_RETRY_AFTER_MS = 2_000;

/** Request body bytes the server holds now, all requests together (read by the metrics). */
export interface RequestBudget {
  readonly heldBytes: number;
}

/**
 * Tells the door that the route has handed its body's bytes on (references in the image store, the job
 * enqueued) and holds nothing more of them: the request's reservation goes back to the budget now rather
 * than when the request ends, so a synchronous request waiting for its job does not hold budget meanwhile.
 */
export function bodyHandedOff(c: Context<AppEnv>): void {
  c.get("handOffBody")?.();
}

/**
 * Counts `bytes` the route holds beside its body (a reference decoded from it) against the budget until
 * the body is handed off; throws `server_busy` when they do not fit, so what a request holds stays
 * bounded by the budget, not only what it receives.
 */
export function holdBeyondBody(c: Context, bytes: number): void {
  (c as Context<AppEnv>).get("holdBeyondBody")?.(bytes);
}

/**
 * The first check every request meets, before any route reads a byte of its body: header size, declared
 * body size, and the server-wide budget of request bytes held (a request is admitted only when its
 * declared length fits; a body without one reserves as it arrives). The body the routes read is a guarded
 * copy that counts bytes and is cut when it exceeds its limit or arrives slower than the floor rate.
 * The reservation bounds bytes HELD, not bytes arriving: it lives until the route calls `bodyHandedOff`
 * or the request ends, however it ends (a reply, an error, an abort). Every refusal goes through
 * `render`, so it is the same JSON error with a code as the rest of the API (whatever the route made of
 * the cut body is replaced by it).
 */
export function requestDoor(
  options: RequestDoorOptions,
  render: (c: Context, error: CodexImgError) => Response,
): MiddlewareHandler<AppEnv> & RequestBudget {
  let inFlight = 0;
  const door: MiddlewareHandler<AppEnv> = async (c, next) => {
    const raw = c.req.raw;
    if (headBytes(raw.headers) > options.maxHeaderBytes) {
      return render(
        c,
        new CodexImgError(
          "headers_too_large",
          `The request headers are larger than ${options.maxHeaderBytes} bytes.`,
          { details: { limit: options.maxHeaderBytes } },
        ),
      );
    }
    const source = raw.body;
    // Nothing to receive: no budget to take and no rate to hold.
    if (!source || raw.headers.get("content-length") === "0") return next();
    const declaredHeader = raw.headers.get("content-length");
    const declared = declaredHeader === null ? undefined : Number(declaredHeader);
    if (declared !== undefined && declared > options.maxBodyBytes) return render(c, tooLarge(options));
    let reserved = 0;
    let handedOff = false;
    const reserve = (bytes: number): boolean => {
      if (handedOff) return true;
      if (inFlight + bytes > options.budgetBytes && bytes > 0) return false;
      inFlight += bytes;
      reserved += bytes;
      return true;
    };
    // What the route held beside the body (its copy of a JSON body, decoded references): garbage once
    // the reservation is released, noted then (see the received chunks below).
    let beside = 0;
    const release = (): void => {
      inFlight -= reserved;
      reserved = 0;
      const dead = beside;
      beside = 0;
      if (dead > 0) setTimeout(() => noteGarbage(dead), 0);
    };
    if (!reserve(declared ?? 0)) return render(c, busy(options));

    let cut: CodexImgError | undefined;
    let received = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = Date.now();
    const reader = source.getReader();
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    const stop = (error: CodexImgError): void => {
      cut ??= error;
      clearTimeout(timer);
      controller?.error(error);
      reader.cancel(error).catch(() => undefined);
    };
    // The next byte is due when the floor rate says so; every chunk pushes the deadline on.
    const arm = (): void => {
      clearTimeout(timer);
      const due = started + options.bodyGraceMs + ((received + 1) / options.minBodyBytesPerSecond) * 1000;
      timer = setTimeout(
        () =>
          stop(
            new CodexImgError(
              "body_timeout",
              `The request body arrived slower than ${options.minBodyBytesPerSecond} bytes per second and was cut.`,
              { details: { received } },
            ),
          ),
        Math.max(0, due - Date.now()),
      );
    };
    // The floor rate runs from the request's arrival but is only enforced once a route reads the body: a
    // handler that answers without reading it (a refused key) or never needs it is not cut meanwhile.
    const guarded = new ReadableStream<Uint8Array>({
      start(own) {
        controller = own;
      },
      async pull(own) {
        if (timer === undefined) arm();
        let read: ReadableStreamReadResult<Uint8Array>;
        try {
          read = await reader.read();
        } catch (error) {
          if (!cut) own.error(error);
          return;
        }
        if (cut) return;
        if (read.done) {
          clearTimeout(timer);
          own.close();
          return;
        }
        // A received chunk is garbage once the route has copied or parsed it, and the engine counts
        // little of its memory: without the ledger a flood of large bodies piles up hundreds of
        // megabytes of dead chunks beyond the budget (bench:memory, flood). Small bodies rarely add up
        // to a collection.
        noteGarbage(read.value.length);
        received += read.value.length;
        if (received > options.maxBodyBytes) return stop(tooLarge(options));
        if (!handedOff && received > reserved && !reserve(received - reserved)) return stop(busy(options));
        arm();
        own.enqueue(read.value);
      },
      // A route that stops reading still holds what it read until it hands it off or the request ends.
      cancel(reason) {
        clearTimeout(timer);
        return reader.cancel(reason);
      },
    });
    c.set("handOffBody", () => {
      handedOff = true;
      release();
    });
    c.set("holdBeyondBody", (bytes) => {
      if (!reserve(bytes)) throw busy(options);
      beside += bytes;
    });
    // The signal is passed on by hand: Bun's copy does not follow the original's, and on Node reading it
    // is what makes @hono/node-server create the controller it aborts when the connection closes early.
    c.req.raw = new Request(raw, { body: guarded, duplex: "half", signal: raw.signal } as RequestInit);
    try {
      await next();
    } finally {
      clearTimeout(timer);
      release();
    }
    if (cut) c.res = render(c, cut);
  };
  return Object.defineProperty(door, "heldBytes", { get: () => inFlight }) as typeof door & RequestBudget;
}

/** Bytes of the request head as sent: `name: value\r\n` per header. */
function headBytes(headers: Headers): number {
  let total = 0;
  for (const [name, value] of headers) total += name.length + value.length + 4;
  return total;
}

function tooLarge(options: RequestDoorOptions): CodexImgError {
  return new CodexImgError(
    "body_too_large",
    `The request body is larger than ${options.maxBodyBytes} bytes.`,
    {
      details: { param: "body", limit: options.maxBodyBytes },
    },
  );
}

function busy(options: RequestDoorOptions): CodexImgError {
  return new CodexImgError(
    "server_busy",
    `The server is receiving ${Math.round(options.budgetBytes / 2 ** 20)} MiB of request bodies already; retry shortly.`,
    { retryAfterMs: BUSY_RETRY_AFTER_MS },
  );
}

import type { AppRouter } from "@codex-img/api";
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
} from "@trpc/client";
import { CodexImgClientError, errorFromResponse, errorFromTrpc } from "./errors.js";
import { type FetchEventSourceClass, fetchEventSource } from "./event-source.js";
import { readSse } from "./sse.js";
import {
  type EditRequest,
  type GenerateRequest,
  isTerminalState,
  type JobEventView,
  type JobImage,
  type JobList,
  type JobState,
  type JobView,
} from "./types.js";

/** An admin session from `loginAdmin`: the cookie and the CSRF token mutations must carry. */
export interface AdminSession {
  cookie: string;
  csrfToken: string;
}

export interface ClientOptions {
  /** The server's URL, with its path prefix when it sits behind a proxy (`https://host/img`). */
  baseUrl: string;
  /** A `cimg_…` key. Optional only for admin-session clients. */
  apiKey?: string;
  /** Admin procedures (keys, accounts, …) outside a browser; a browser sends its cookie by itself. */
  adminSession?: AdminSession;
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Extra headers on every call (a proxy's own credentials, say). */
  headers?: Record<string, string>;
  /** For tRPC subscriptions; default a fetch-based one that sends the key. */
  EventSource?: FetchEventSourceClass;
}

export interface JobCallOptions {
  signal?: AbortSignal;
  /**
   * `true` (default): wait until the job ends; a number: wait at most that many ms and return the job as
   * it is then; `false`: return the queued job at once.
   */
  wait?: boolean | number;
  /** Each job event while waiting (progress, partial images, retries). */
  onEvent?: (event: JobEventView) => void;
}

export interface WaitOptions {
  /** Give up waiting after this many ms and return the job as it is (still queued or running). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onEvent?: (event: JobEventView) => void;
}

export interface EventsOptions {
  /** Only events after this sequence number (resume). */
  afterSeq?: number;
  signal?: AbortSignal;
}

export interface ListJobsOptions {
  limit?: number;
  status?: JobState;
  cursor?: string;
  signal?: AbortSignal;
}

export interface CodexImgClient {
  /** The typed tRPC proxy over every router (`trpc.jobs.list.query()`, `trpc.keys.create.mutate(…)`). */
  trpc: TRPCClient<AppRouter>;
  /** Queues a generation (tRPC `images.generate`) and, unless `wait: false`, follows it to the end. */
  generate(request: GenerateRequest, options?: JobCallOptions): Promise<JobView>;
  /** Queues an edit with reference images (REST `POST /v1/images/jobs`) and follows it likewise. */
  edit(request: EditRequest, options?: JobCallOptions): Promise<JobView>;
  /** Follows a job's events until it ends (or `timeoutMs` passes) and returns the job as it is then. */
  waitForJob(id: string, options?: WaitOptions): Promise<JobView>;
  /** The job's events, resumed transparently after a dropped connection; ends after the final event. */
  events(id: string, options?: EventsOptions): AsyncIterable<JobEventView>;
  getJob(id: string, options?: { signal?: AbortSignal }): Promise<JobView>;
  listJobs(options?: ListJobsOptions): Promise<JobList>;
  cancelJob(id: string, options?: { signal?: AbortSignal }): Promise<JobView>;
  /** An image's bytes; relative URLs are resolved against `baseUrl`. */
  download(image: JobImage | string, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /** `GET /health` (no key). */
  health(options?: { signal?: AbortSignal }): Promise<{ status: string; version?: string; backend?: string }>;
}

const MAX_EVENT_RECONNECTS = 5;

/** Typed access to a codex-img server from Bun, Deno, Node or a browser: fetch only. */
export function createClient(options: ClientOptions): CodexImgClient {
  // A key is one line of printable ASCII; anything else (a pasted line break) cannot be sent as a header,
  // and fetch's refusal would read as an unreachable server.
  if (options.apiKey !== undefined && !/^[\x21-\x7e]+$/.test(options.apiKey)) {
    throw new CodexImgClientError(
      "unauthorized",
      "The API key contains a line break, a space or another character no key has; store it again as one line.",
    );
  }
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const headers = (): Record<string, string> => ({
    ...options.headers,
    ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    ...(options.adminSession
      ? { cookie: options.adminSession.cookie, "x-csrf-token": options.adminSession.csrfToken }
      : {}),
  });

  const send = async (path: string, init: RequestInit = {}): Promise<Response> => {
    let response: Response;
    try {
      response = await doFetch(`${baseUrl}${path}`, {
        ...init,
        headers: { ...headers(), ...(init.headers as Record<string, string> | undefined) },
      });
    } catch (error) {
      throw networkError(baseUrl, error, init.signal ?? undefined);
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  };
  const json = async <T>(path: string, init?: RequestInit): Promise<T> =>
    (await (await send(path, init)).json()) as T;

  // Network failures become our `unreachable` before tRPC wraps them, so they read the same everywhere.
  const trpcFetch: typeof fetch = async (input, init) => {
    try {
      return await doFetch(input, init);
    } catch (error) {
      throw networkError(baseUrl, error, init?.signal ?? undefined);
    }
  };
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url: `${baseUrl}/trpc`,
          EventSource: options.EventSource ?? fetchEventSource(doFetch, headers),
        }),
        false: httpBatchLink({ url: `${baseUrl}/trpc`, fetch: trpcFetch, headers }),
      }),
    ],
  });

  async function* events(id: string, eventOptions: EventsOptions = {}): AsyncGenerator<JobEventView> {
    let last = eventOptions.afterSeq ?? 0;
    let reconnects = 0;
    for (;;) {
      const response = await send(`/v1/images/jobs/${encodeURIComponent(id)}/events`, {
        headers: { accept: "text/event-stream", ...(last > 0 ? { "last-event-id": String(last) } : {}) },
        ...(eventOptions.signal ? { signal: eventOptions.signal } : {}),
      });
      if (!response.body) throw new CodexImgClientError("internal", "The event stream has no body.");
      try {
        for await (const message of readSse(response.body)) {
          if (message.event === "error") throw streamError(message.data, id);
          const event = JSON.parse(message.data) as JobEventView;
          last = event.seq;
          reconnects = 0;
          yield event;
          if (event.type === "succeeded" || event.type === "failed" || event.type === "canceled") return;
        }
      } catch (error) {
        if (error instanceof CodexImgClientError) throw error;
        if (eventOptions.signal?.aborted) throw networkError(baseUrl, error, eventOptions.signal);
        // A proxy or a restart cut the stream: resume after the last event we saw.
      }
      if (++reconnects > MAX_EVENT_RECONNECTS) {
        throw new CodexImgClientError("unreachable", `The event stream of ${id} kept closing early.`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * reconnects));
    }
  }

  const getJob = (id: string, opts: { signal?: AbortSignal } = {}): Promise<JobView> =>
    json<JobView>(`/v1/jobs/${encodeURIComponent(id)}`, opts.signal ? { signal: opts.signal } : {});

  async function waitForJob(id: string, waitOptions: WaitOptions = {}): Promise<JobView> {
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(waitOptions.signal?.reason);
    waitOptions.signal?.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    const timer =
      waitOptions.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            stop.abort();
          }, waitOptions.timeoutMs);
    try {
      for await (const event of events(id, { signal: stop.signal })) waitOptions.onEvent?.(event);
    } catch (error) {
      if (!timedOut) throw error;
    } finally {
      clearTimeout(timer);
      waitOptions.signal?.removeEventListener("abort", onAbort);
    }
    return getJob(id, waitOptions.signal ? { signal: waitOptions.signal } : {});
  }

  async function follow(job: JobView, callOptions: JobCallOptions): Promise<JobView> {
    const wait = callOptions.wait ?? true;
    if (wait === false) return job;
    const done = await waitForJob(job.id, {
      ...(typeof wait === "number" ? { timeoutMs: wait } : {}),
      ...(callOptions.signal ? { signal: callOptions.signal } : {}),
      ...(callOptions.onEvent ? { onEvent: callOptions.onEvent } : {}),
    });
    if (isTerminalState(done.status) && done.status !== "succeeded") throw jobFailure(done);
    return done;
  }

  return {
    trpc,
    events: (id, eventOptions) => events(id, eventOptions),
    waitForJob,
    getJob,

    async generate(request, callOptions = {}) {
      let created: { job: Record<string, unknown> };
      try {
        created = await trpc.images.generate.mutate(
          request,
          callOptions.signal ? { signal: callOptions.signal } : {},
        );
      } catch (error) {
        throw errorFromTrpc(error);
      }
      return follow(created.job as unknown as JobView, callOptions);
    },

    async edit(request, callOptions = {}) {
      const references = await Promise.all(request.references.map(toBase64));
      // Sent even when not chosen: this route's own defaults are the predecessor's (1024x1024, medium),
      // and an edit should get the defaults of every other call (core's DEFAULT_IMAGE_SIZE / _QUALITY,
      // not imported: the client stays free of the engine's run-time code for browsers).
      const body = {
        prompt: request.prompt,
        size: request.size ?? "auto",
        quality: request.quality ?? "auto",
        reference_images_base64: references,
      };
      const queued = await json<{ id: string }>("/v1/images/jobs", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(request.idempotencyKey ? { "idempotency-key": request.idempotencyKey } : {}),
        },
        body: JSON.stringify(body),
        ...(callOptions.signal ? { signal: callOptions.signal } : {}),
      });
      const job = await getJob(queued.id, callOptions.signal ? { signal: callOptions.signal } : {});
      return follow(job, callOptions);
    },

    listJobs(listOptions = {}) {
      const query = new URLSearchParams();
      if (listOptions.limit !== undefined) query.set("limit", String(listOptions.limit));
      if (listOptions.status) query.set("status", listOptions.status);
      if (listOptions.cursor) query.set("cursor", listOptions.cursor);
      const suffix = query.size > 0 ? `?${query}` : "";
      return json<JobList>(`/v1/jobs${suffix}`, listOptions.signal ? { signal: listOptions.signal } : {});
    },

    cancelJob(id, opts = {}) {
      return json<JobView>(`/v1/jobs/${encodeURIComponent(id)}/cancel`, {
        method: "POST",
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    },

    async download(image, opts = {}) {
      const url = new URL(typeof image === "string" ? image : image.url, `${baseUrl}/`).toString();
      let response: Response;
      try {
        // No key: image URLs are signed or public, and may point at another host (a CDN).
        response = await doFetch(url, opts.signal ? { signal: opts.signal } : {});
      } catch (error) {
        throw networkError(baseUrl, error, opts.signal);
      }
      if (!response.ok) throw await errorFromResponse(response);
      return new Uint8Array(await response.arrayBuffer());
    },

    health(opts = {}) {
      return json(`/health`, opts.signal ? { signal: opts.signal } : {});
    },
  };
}

/** Logs in as the admin through tRPC `auth.login` and returns what admin calls need. */
export async function loginAdmin(options: {
  baseUrl: string;
  password: string;
  fetch?: typeof fetch;
}): Promise<AdminSession> {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  let response: Response;
  try {
    response = await doFetch(`${baseUrl}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: options.password }),
    });
  } catch (error) {
    throw networkError(baseUrl, error, undefined);
  }
  const body = (await response.json().catch(() => undefined)) as
    | { result?: { data?: { csrfToken?: string } }; error?: { message?: string; data?: unknown } }
    | undefined;
  const csrfToken = body?.result?.data?.csrfToken;
  if (!response.ok || !csrfToken) {
    if (body?.error) throw errorFromTrpc({ message: body.error.message, data: body.error.data });
    throw await errorFromResponse(response);
  }
  const cookies = response.headers.getSetCookie?.() ?? [response.headers.get("set-cookie") ?? ""];
  const cookie = cookies
    .map((line) => line.split(";")[0]?.trim() ?? "")
    .filter((pair) => pair.includes("=") && !pair.endsWith("="))
    .join("; ");
  return { cookie, csrfToken };
}

function networkError(baseUrl: string, error: unknown, signal: AbortSignal | undefined): CodexImgClientError {
  if (signal?.aborted) return new CodexImgClientError("canceled", "The call was aborted.", { cause: error });
  const detail =
    error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : "";
  return new CodexImgClientError("unreachable", `Cannot reach ${baseUrl}${detail ? `: ${detail}` : ""}.`, {
    cause: error,
  });
}

function streamError(data: string, jobId: string): CodexImgClientError {
  try {
    const parsed = JSON.parse(data) as { error?: { code?: string; message?: string } };
    return errorFromTrpc({
      message: parsed.error?.message ?? "The event stream failed.",
      data: { code: parsed.error?.code },
    });
  } catch {
    return new CodexImgClientError("internal", `The event stream of ${jobId} failed.`, { jobId });
  }
}

/** A job that ended without images, as an error carrying its code and id. */
export function jobFailure(job: JobView): CodexImgClientError {
  const code = job.error?.code ?? (job.status === "canceled" ? "canceled" : "internal");
  return new CodexImgClientError(code, job.error?.message ?? `The job ended ${job.status}.`, {
    jobId: job.id,
    ...(job.error?.retry_after_ms === undefined ? {} : { retryAfterMs: job.error.retry_after_ms }),
  });
}

async function toBase64(reference: Uint8Array | Blob): Promise<string> {
  const bytes = reference instanceof Uint8Array ? reference : new Uint8Array(await reference.arrayBuffer());
  let binary = "";
  // Chunks keep `String.fromCharCode` under the engines' argument limits for large images.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

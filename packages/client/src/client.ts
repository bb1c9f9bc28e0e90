import type { AppRouter } from "@codex-img/api";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import type {
  ClientOptions,
  CodexImgClient,
  EventsOptions,
  JobCallOptions,
  WaitOptions,
} from "./codex-img-client.js";
import { CodexImgClientError, errorFromResponse, errorFromTrpc } from "./errors.js";
import { fetchEventSource } from "./event-source.js";
import { jobEventStream } from "./job-event-stream.js";
import { networkError } from "./network-error.js";
import { isTerminalState, type JobEventView, type JobList, type JobView } from "./types.js";

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
  const events = (id: string, eventOptions?: EventsOptions): AsyncGenerator<JobEventView> =>
    jobEventStream(send, baseUrl, id, eventOptions);

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

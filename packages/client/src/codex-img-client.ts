import type { AppRouter } from "@codex-img/api";
import type { TRPCClient } from "@trpc/client";
import type { FetchEventSourceClass } from "./event-source.js";
import type {
  EditRequest,
  GenerateRequest,
  JobEventView,
  JobImage,
  JobList,
  JobState,
  JobView,
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

import type { Context } from "hono";

/**
 * Runs `work` with a signal that aborts when the client is gone (the request's signal aborts: Bun and
 * @hono/node-server both abort it when the connection closes before the reply is written) but only until
 * `work` settles. A synchronous request's job is tied to its connection while the caller waits for it;
 * once the reply tells it to poll, a later hang-up must not cancel the job.
 */
export async function whileConnected<T>(c: Context, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const connection = c.req.raw.signal;
  const waiting = new AbortController();
  const hangUp = (): void => waiting.abort(connection.reason);
  if (connection.aborted) hangUp();
  else connection.addEventListener("abort", hangUp, { once: true });
  try {
    return await work(waiting.signal);
  } finally {
    connection.removeEventListener("abort", hangUp);
  }
}

import { resolve } from "node:path";
import { CodexImgError } from "../../errors.js";

/**
 * Tails of the per-home queues. Process-wide on purpose: two backend instances on one Codex home must
 * not run the CLI at the same time either (it may rotate the refresh token). Holds no resources.
 */
const tails = new Map<string, Promise<void>>();

/**
 * Runs `fn` when every earlier run on the same Codex home has finished (FIFO). A caller that aborts
 * while waiting leaves the queue at once with `canceled`; the ones behind it keep their order.
 */
export async function withHomeTurn<T>(home: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const key = resolve(home);
  const previous = tails.get(key) ?? Promise.resolve();
  let release: () => void = () => {};
  const mine = new Promise<void>((r) => {
    release = r;
  });
  const tail = previous.then(() => mine);
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  try {
    await waitUnlessAborted(previous, signal);
    return await fn();
  } finally {
    release();
  }
}

function waitUnlessAborted(promise: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return promise;
  const canceled = (): CodexImgError =>
    new CodexImgError(
      "canceled",
      "Canceled while waiting for another codex exec run on the same Codex home.",
    );
  if (signal.aborted) return Promise.reject(canceled());
  return new Promise((resolvePromise, reject) => {
    const onAbort = (): void => reject(canceled());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolvePromise();
      },
      () => {
        signal.removeEventListener("abort", onAbort);
        resolvePromise();
      },
    );
  });
}

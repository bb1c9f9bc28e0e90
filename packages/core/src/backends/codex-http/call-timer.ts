import type { Clock } from "../../clock.js";

/** Why a call was cut short. */
export type CallStopReason = "idle" | "total" | "canceled";

export interface CallTimer {
  /** Aborts when the caller cancels or a timeout fires; pass it to `fetch` so the socket really closes. */
  readonly signal: AbortSignal;
  /** Set once the call was cut short. */
  readonly stopReason: CallStopReason | undefined;
  /** Bytes arrived: restart the idle countdown. */
  touch(): void;
  /**
   * Settles like `promise`, or rejects as soon as the call is cut short, even if the fetch
   * implementation ignores its signal.
   */
  race<T>(promise: Promise<T>): Promise<T>;
  /** Clears the timers and detaches from the caller's signal. */
  dispose(): void;
}

export interface CallTimerOptions {
  clock: Clock;
  /** Longest silence between bytes (and before the reply headers). */
  idleTimeoutMs: number;
  /** Longest whole call. */
  totalTimeoutMs: number;
  signal?: AbortSignal;
}

/** Idle and total timeouts on the injected clock, plus the caller's cancellation, as one AbortSignal. */
export function startCallTimer(options: CallTimerOptions): CallTimer {
  const controller = new AbortController();
  let stopReason: CallStopReason | undefined;
  let cancelIdle: (() => void) | undefined;
  let cancelTotal: (() => void) | undefined;

  const stop = (reason: CallStopReason): void => {
    if (stopReason !== undefined) return;
    stopReason = reason;
    cancelIdle?.();
    cancelTotal?.();
    controller.abort(new DOMException(`call stopped: ${reason}`, "AbortError"));
  };
  const onCallerAbort = (): void => stop("canceled");
  const armIdle = (): void => {
    cancelIdle?.();
    cancelIdle = options.clock.setTimeout(() => stop("idle"), options.idleTimeoutMs);
  };

  if (options.signal?.aborted) stop("canceled");
  else {
    options.signal?.addEventListener("abort", onCallerAbort, { once: true });
    cancelTotal = options.clock.setTimeout(() => stop("total"), options.totalTimeoutMs);
    armIdle();
  }

  return {
    signal: controller.signal,
    get stopReason() {
      return stopReason;
    },
    touch() {
      if (stopReason === undefined) armIdle();
    },
    race<T>(promise: Promise<T>): Promise<T> {
      if (controller.signal.aborted) {
        promise.catch(() => {});
        return Promise.reject(controller.signal.reason);
      }
      return new Promise<T>((resolve, reject) => {
        const onAbort = (): void => reject(controller.signal.reason);
        controller.signal.addEventListener("abort", onAbort, { once: true });
        promise.then(
          (value) => {
            controller.signal.removeEventListener("abort", onAbort);
            resolve(value);
          },
          (error: unknown) => {
            controller.signal.removeEventListener("abort", onAbort);
            reject(error);
          },
        );
      });
    },
    dispose() {
      cancelIdle?.();
      cancelTotal?.();
      options.signal?.removeEventListener("abort", onCallerAbort);
    },
  };
}

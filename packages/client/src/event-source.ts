import { readSse } from "./sse.js";

export interface EventSourceMessage {
  type: string;
  data: string;
  lastEventId: string;
}

type Listener = (event: EventSourceMessage) => void;

/** The part of `EventSource` that tRPC's `httpSubscriptionLink` uses. */
export interface FetchEventSourceInstance {
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSED: 2;
  readyState: number;
  readonly url: string;
  readonly withCredentials: boolean;
  addEventListener(type: string, listener: Listener): void;
  removeEventListener(type: string, listener: Listener): void;
  close(): void;
}

export type FetchEventSourceClass = new (url: string, init?: unknown) => FetchEventSourceInstance;

/**
 * An `EventSource` over `fetch` that sends our headers (the bearer key): the browser's own `EventSource`
 * cannot, and Node 20 has none. One connection per instance; tRPC's link reconnects by itself and passes
 * the last event id in the input.
 */
export function fetchEventSource(
  doFetch: typeof fetch,
  headers: () => Record<string, string>,
): FetchEventSourceClass {
  return class FetchEventSource implements FetchEventSourceInstance {
    readonly CONNECTING = 0 as const;
    readonly OPEN = 1 as const;
    readonly CLOSED = 2 as const;
    readonly withCredentials = false;
    readyState = 0;
    readonly url: string;
    readonly #listeners = new Map<string, Set<Listener>>();
    readonly #abort = new AbortController();

    constructor(url: string) {
      this.url = url;
      void this.#run();
    }

    addEventListener(type: string, listener: Listener): void {
      const set = this.#listeners.get(type) ?? new Set();
      set.add(listener);
      this.#listeners.set(type, set);
    }

    removeEventListener(type: string, listener: Listener): void {
      this.#listeners.get(type)?.delete(listener);
    }

    close(): void {
      this.readyState = this.CLOSED;
      this.#abort.abort();
    }

    #emit(type: string, data = "", lastEventId = ""): void {
      for (const listener of this.#listeners.get(type) ?? []) listener({ type, data, lastEventId });
    }

    async #run(): Promise<void> {
      try {
        const response = await doFetch(this.url, {
          headers: { accept: "text/event-stream", ...headers() },
          signal: this.#abort.signal,
        });
        if (!response.ok || !response.body) throw new Error(`SSE answered ${response.status}`);
        this.readyState = this.OPEN;
        this.#emit("open");
        let lastEventId = "";
        for await (const message of readSse(response.body)) {
          if (this.readyState === this.CLOSED) return;
          if (message.id) lastEventId = message.id;
          this.#emit(message.event, message.data, lastEventId);
        }
      } catch {
        // Reported below as a browser would: an `error` event with the source closed.
      }
      if (this.readyState === this.CLOSED) return;
      this.readyState = this.CLOSED;
      this.#emit("error");
    }
  };
}

type Listener = (event: EventSourceMessage) => void;

/** What tRPC's SSE consumer reads of an event. */
export interface EventSourceMessage {
  type: string;
  data: string;
  lastEventId: string;
}

/**
 * A minimal `EventSource` over `fetch` for Node 20 (which has none), sending extra headers such as the
 * session cookie the way a browser would. One connection, no automatic reconnect: tRPC's link reconnects
 * itself and passes `lastEventId` in the input.
 */
export function fetchEventSource(headers: () => Record<string, string>): new (
  url: string,
) => {
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSED: 2;
  readyState: number;
  addEventListener(type: string, listener: Listener): void;
  removeEventListener(type: string, listener: Listener): void;
  close(): void;
} {
  return class FetchEventSource {
    readonly CONNECTING = 0 as const;
    readonly OPEN = 1 as const;
    readonly CLOSED = 2 as const;
    readyState = 0;
    readonly #listeners = new Map<string, Set<Listener>>();
    readonly #abort = new AbortController();

    constructor(url: string) {
      void this.#run(url);
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

    async #run(url: string): Promise<void> {
      try {
        const response = await fetch(url, {
          headers: { accept: "text/event-stream", ...headers() },
          signal: this.#abort.signal,
        });
        if (!response.ok || !response.body) throw new Error(`SSE answered ${response.status}`);
        this.readyState = this.OPEN;
        this.#emit("open");
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        let event = { type: "", data: [] as string[], id: "" };
        let lastEventId = "";
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += value;
          const lines = buffer.split(/\r\n|\n|\r/);
          buffer = lines.pop() ?? "";
          for (const line of lines) {
            if (line === "") {
              if (event.data.length > 0 && this.readyState !== this.CLOSED) {
                if (event.id) lastEventId = event.id;
                this.#emit(event.type || "message", event.data.join("\n"), lastEventId);
              }
              event = { type: "", data: [], id: "" };
              continue;
            }
            if (line.startsWith(":")) continue;
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "event") event.type = text;
            else if (field === "data") event.data.push(text);
            else if (field === "id") event.id = text;
          }
        }
      } catch {
        // Reported below as the browser would: an `error` event with the source closed.
      }
      if (this.readyState === this.CLOSED) return;
      this.readyState = this.CLOSED;
      this.#emit("error");
    }
  };
}

/**
 * @codex-img/client: a typed client for a codex-img server. Web-standard APIs only (fetch, streams), so it
 * runs in Bun, Deno, Node and browsers. The `codex-img` command line lives in `cli/` and is not exported.
 */
export * from "./client.js";
export * from "./codex-img-client.js";
export * from "./errors.js";
export { type FetchEventSourceClass, fetchEventSource } from "./event-source.js";
export { loginAdmin } from "./login-admin.js";
export { readSse, type SseMessage } from "./sse.js";
export * from "./types.js";

/** @codex-img/api: the HTTP surface as `(Request) => Response` handlers over shared services. */
export * from "./app-env.js";
export * from "./create-api.js";
export { PEER_ADDRESS_HEADER } from "./http/admin-session.js";
export * from "./services.js";
export * from "./trpc/index.js";

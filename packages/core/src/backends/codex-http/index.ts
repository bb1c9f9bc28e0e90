/** The ChatGPT Codex backend over HTTP (native image route, Responses + hosted tool fallback). */
export * from "./classify-upstream-error.js";
export * from "./codex-headers.js";
export * from "./compare-semver.js";
export * from "./constants.js";
export * from "./create-codex-http-backend.js";
export * from "./parse-json-bytes.js";
export * from "./quota-snapshot.js";
export * from "./sse-byte-reader.js";
export * from "./uuid-v7.js";
export * from "./zstd-raw-frame.js";

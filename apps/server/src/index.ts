/** The codex-img server: configuration and preflight so far; services, HTTP and workers build on them. */
export * from "./config/index.js";
export * from "./preflight.js";
export * from "./preflight-format.js";
export * from "./preflight-report.js";

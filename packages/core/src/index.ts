/**
 * @codex-img/core: turn a prompt (and optional reference images) into image bytes through a ChatGPT
 * subscription. Web-standard APIs only, except `node/` (files, processes, locks).
 */
export * from "./accounts/index.js";
export * from "./auth/index.js";
export * from "./backends/codex-http/index.js";
export * from "./backends/demo.js";
export * from "./backends/openai.js";
export * from "./clock.js";
export * from "./errors.js";
export * from "./image/index.js";
export * from "./logger.js";
export * from "./node/index.js";
export * from "./queue/index.js";
export * from "./redact.js";
export * from "./request.js";
export * from "./runner/index.js";
export * from "./storage/index.js";
export * from "./types.js";

export * from "./build-child-env.js";
export * from "./build-cli-prompt.js";
export * from "./codex-cli-options.js";
export * from "./create-codex-cli-backend.js";
export * from "./detect-cli-failure.js";
export * from "./find-cli-images.js";
export * from "./parse-cli-events.js";
export * from "./parse-reset-time.js";

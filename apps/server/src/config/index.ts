export * from "./config-file.js";
export * from "./listen-safety.js";
export * from "./load-config.js";
export * from "./problems.js";
export * from "./read-environment.js";
export * from "./redacted-config.js";
export * from "./session-secret.js";
export * from "./settings.js";

export * from "./config-file.js";
export * from "./listen-safety.js";
export * from "./load-config.js";
export * from "./problems.js";
export * from "./read-environment.js";
export * from "./redacted-config.js";
export * from "./session-secret.js";
export {
  BACKEND_CHOICES,
  type BackendChoice,
  CLI_SANDBOXES,
  LOG_LEVELS,
  type SettingKind,
  type SettingSpec,
} from "./setting-spec.js";
export * from "./settings.js";

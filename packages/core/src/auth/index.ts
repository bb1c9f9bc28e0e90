export * from "./apply-refreshed-tokens.js";
export * from "./jwt-claims.js";
export * from "./last-refresh.js";
export * from "./login-summary.js";
export * from "./parse-auth-file.js";
export * from "./token-freshness.js";
export * from "./token-refresh.js";

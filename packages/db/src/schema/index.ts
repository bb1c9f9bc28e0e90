export * from "./accounts.js";
export * from "./image-keys.js";
export * from "./jobs.js";
export * from "./keys.js";

export * from "./accounts.js";
export * from "./jobs.js";
export * from "./keys.js";

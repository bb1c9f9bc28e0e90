/** Test support: the real server process, started the way the README starts it. Node-only. */

export * from "./server-runtimes.js";
export * from "./start-server-process.js";
export * from "./start-server-with-login.js";
export * from "./start-upstream-with-logins.js";

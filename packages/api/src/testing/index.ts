/**
 * Test support for packages that build on the API: the whole HTTP surface on real components (a temp
 * libSQL file, a file image store, a runner on the demo backend) and a loopback server for any
 * `(Request) => Response` handler. Node-only.
 */
export * from "./api-harness.js";
export * from "./serve-fetch.js";

/**
 * Conformance suites for the ports: every implementation (memory, files, libSQL) runs the same rules.
 * A separate entry point from `./testing` because these register Vitest tests when called.
 */
export * from "./image-store-conformance.js";
export * from "./job-store-conformance.js";

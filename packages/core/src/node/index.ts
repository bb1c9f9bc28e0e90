// Node-only parts (files, processes, locks). Bun and Deno support these `node:` modules too.
export * from "./codex-home.js";
export * from "./codex-version.js";
export * from "./codex-home-credentials.js";
export * from "./file-lock.js";
export * from "./codex-cli/index.js";
export * from "./local-backend.js";

// Node-only parts (files, processes, locks). Bun and Deno support these `node:` modules too.

export * from "./codex-cli/index.js";
export * from "./codex-home.js";
export * from "./codex-home-credential-types.js";
export * from "./codex-home-credentials.js";
export * from "./codex-homes.js";
export * from "./codex-version.js";
export * from "./exact-fetch.js";
export * from "./file-image-store.js";
export * from "./file-lock.js";
export * from "./local-backend.js";

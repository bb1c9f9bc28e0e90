#!/usr/bin/env node
// The installed `codex-img` command: the built CLI. In a checkout, `bun install` builds `dist/` (the root
// `prepare` script); `bun run cli` runs the TypeScript source instead.
await import("../dist/cli/main.js");

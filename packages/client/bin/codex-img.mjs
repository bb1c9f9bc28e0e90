#!/usr/bin/env node
// The installed `codex-img` command: the built CLI (run `bun run build` in packages/client first when
// working from a checkout, or run the source with `bun --conditions=source packages/client/src/cli/main.ts`).
await import("../dist/cli/main.js");

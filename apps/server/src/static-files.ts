import { join } from "node:path";
import { serveStatic as nodeServeStatic } from "@hono/node-server/serve-static";
import type { MiddlewareHandler } from "hono";
import { serveStatic as baseServeStatic } from "hono/serve-static";

interface BunFileApi {
  file(path: string): Blob & { exists(): Promise<boolean> };
}

/**
 * The files under `root`, streamed: with `Bun.file` on Bun, which also reads the files embedded in the
 * single-file server of `bun run release` (Bun's `createReadStream` cannot), with Node streams elsewhere.
 */
export function staticFiles(options: {
  root: string;
  rewriteRequestPath: (path: string) => string;
}): MiddlewareHandler {
  const bun = (globalThis as { Bun?: BunFileApi }).Bun;
  if (!bun) return nodeServeStatic(options);
  return baseServeStatic({
    ...options,
    join,
    // Folders of the static export are the ones with an index page; embedded folders cannot be stat'ed.
    isDir: (path) => bun.file(join(path, "index.html")).exists(),
    getContent: async (path) => {
      const file = bun.file(path);
      return (await file.exists()) ? (file as unknown as ReadableStream) : null;
    },
  });
}

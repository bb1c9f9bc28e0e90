/**
 * The fake Codex backend of `bench:gateway` in its own process, as the real upstream is another machine:
 * in the benchmark's process its CPU (building and sending every reply) shared one event loop with the
 * client reading the replies, so a gateway that stores an image before answering had its reply read only
 * after the fake had sent the rest of the burst, a wait no deployment has.
 *
 * Every image call is answered after `delay-ms` with a noisy PNG that does not compress, unique per call
 * (the server refuses an image it was given before as stale). Lines on stdin choose the image, and each
 * gets a line back on stdout once the new image is in use:
 *   {"width": 800, "height": 800, "channels": 2}  ->  {"imageBytes": 1534042, "base64Length": 2045392}
 * The first line on stdout is `{"baseUrl": ..., "tokenUrl": ...}`.
 *
 *   bun apps/bench/src/support/fake-upstream.ts <delay-ms>
 */
import type { ServerResponse } from "node:http";
import { createInterface } from "node:readline";
import { startFakeCodexBackend } from "@codex-img/core/testing";
import { noisyPng, sleep, uniquePngBase64Parts } from "./bench-kit.js";

const delayMs = Number(process.argv[2] ?? "200");
// The reply in two pieces: what differs per call (a few dozen bytes) and the image's shared rest, a
// buffer sent as it is, so the fake spends little CPU per reply, as a remote upstream spends none of ours.
let head: (created: number) => string = () => "";
let rest = Buffer.alloc(0);

const reply = async (_request: unknown, res: ServerResponse): Promise<void> => {
  await sleep(delayMs);
  const first = Buffer.from(head(Math.floor(Date.now() / 1000)));
  if (res.destroyed) return;
  res.writeHead(200, { "content-type": "application/json", "content-length": first.length + rest.length });
  res.write(first);
  res.end(rest);
};
// The direct and pass-through clients are not the official CLI: the fake's request check is off.
const upstream = await startFakeCodexBackend({
  cliFidelity: "off",
  defaults: { images: { kind: "custom", handle: reply } },
});
process.stdout.write(`${JSON.stringify({ baseUrl: upstream.baseUrl, tokenUrl: upstream.tokenUrl })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const { width, height, channels } = JSON.parse(line) as { width: number; height: number; channels: number };
  const png = await noisyPng(width, height, channels);
  const parts = uniquePngBase64Parts(png);
  head = (created) => `{"created":${created},"data":[{"b64_json":"${parts.head}${parts.next()}`;
  rest = Buffer.from(`${parts.tail}"}],"output_format":"png","quality":"medium","size":"1024x1024"}`);
  process.stdout.write(
    `${JSON.stringify({ imageBytes: png.length, base64Length: Math.floor((png.length * 4) / 3) })}\n`,
  );
}
// stdin closed: the benchmark is done.
await upstream.close();
process.exit(0);

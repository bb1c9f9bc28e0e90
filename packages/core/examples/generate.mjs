// The library in a few lines: generate one image and save it.
// Runs unchanged on Node (`node generate.mjs`), Bun (`bun generate.mjs`) and Deno (`deno run -A generate.mjs`).
// With a Codex login on this machine (`codex login`) it uses your ChatGPT subscription; without one it
// falls back to the demo backend, which draws a labelled placeholder.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLocalBackend } from "@codex-img/core";

const prompt = process.argv[2] ?? "a lighthouse on a cliff at dawn, watercolor";
const outDir = process.env.CODEX_IMG_OUT ?? "generated";

const { backend, account, notice } = await createLocalBackend();
if (notice) console.error(notice);

const result = await backend.generate({ prompt, size: "1024x1024" }, { account });
const [image] = result.images;

await mkdir(outDir, { recursive: true });
const file = join(outDir, `${result.demo ? "demo" : "image"}-${Date.now()}.${image.format}`);
await writeFile(file, image.bytes);
console.error(`${result.backend} made a ${image.width}x${image.height} ${image.format}`);
console.log(file);

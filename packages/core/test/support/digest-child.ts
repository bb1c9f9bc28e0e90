// Stores the same bytes cut in different ways with the file store under Bun (Vitest runs on Node, where
// the store digests with SHA-256) and prints the digests as one JSON line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFileImageStore } from "@codex-img/core";

const dir = mkdtempSync(join(tmpdir(), "codex-img-digest-"));
const store = createFileImageStore({ dir });
const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
async function* cut(source: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  for (let at = 0, i = 0; at < source.length; i++) {
    const size = sizes[i % sizes.length] as number;
    yield source.slice(at, at + size);
    at += size;
  }
}
const digest = async (source: Uint8Array, sizes: number[]): Promise<string> =>
  (await store.putStream(cut(source, sizes), { format: "png" })).digest;
const changed = bytes.slice();
changed.set([(changed.at(-1) ?? 0) ^ 1], changed.length - 1);
const result = {
  whole: await digest(bytes, [bytes.length]),
  small: await digest(bytes, [1, 1000, 65_535, 3]),
  large: await digest(bytes, [65_536, 131_073]),
  blocks: await digest(bytes, [65_536]),
  different: await digest(changed, [bytes.length]),
  shorter: await digest(bytes.subarray(1), [bytes.length]),
};
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(result)}\n`);

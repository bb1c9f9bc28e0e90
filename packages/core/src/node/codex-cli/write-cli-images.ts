import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ImageFormat } from "../../types.js";

const EXTENSIONS: Record<ImageFormat, string> = { png: "png", jpeg: "jpg", webp: "webp" };

/**
 * Writes images into a run's work folder as `<name>-<n>.<ext>` (the extension from the format read from
 * the bytes), mode 0600, and returns their paths in order, for `-i`.
 */
export async function writeCliImages(
  workDir: string,
  name: string,
  images: ReadonlyArray<{ bytes: Uint8Array; format: ImageFormat }>,
): Promise<string[]> {
  const paths: string[] = [];
  for (const [index, image] of images.entries()) {
    const path = join(workDir, `${name}-${index + 1}.${EXTENSIONS[image.format]}`);
    await writeFile(path, image.bytes, { mode: 0o600 });
    paths.push(path);
  }
  return paths;
}

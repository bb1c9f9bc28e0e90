import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { base64ToBytes } from "../../image/index.js";

/** One image file or rollout entry the CLI left for a thread. */
export interface CliImageCandidate {
  bytes: Uint8Array;
  /** Where it came from, for diagnostics: a file path or `rollout:<path>`. */
  source: string;
  revisedPrompt?: string;
}

export interface FindCliImagesOptions {
  codexHome: string;
  threadId: string;
  /** Epoch ms (real time) when the run started; older files are a previous run's. */
  startedAt: number;
  /** Epoch ms (real time) when the run ended; picks the rollout's date folders. */
  endedAt: number;
}

/**
 * Filesystems stamp mtimes coarsely (FAT 2 s, some network mounts 1 s): a file written right after the
 * start may look a little older. Only folders named after this run's thread are searched, so the slack
 * cannot let another run's image in.
 */
const MTIME_SLACK_MS = 2_000;

/** `$CODEX_HOME/generated_images/<thread id>`: where 0.169.0 writes `<call id>.png`. */
export function generatedImagesDir(codexHome: string, threadId: string): string {
  return join(codexHome, "generated_images", threadId);
}

/**
 * Finds the images of one `codex exec` run (upstream.md §5): files in `generated_images/<thread id>/`,
 * else the session rollout of that thread (`savedPath` of the image item, or base64 in `result` of
 * `image_generation_call` / `image_generation_end` items written by older versions). Only files newer
 * than the run's start count. Does not sniff or deduplicate: the caller does.
 */
export async function findCliImages(options: FindCliImagesOptions): Promise<CliImageCandidate[]> {
  const fromFolder = await readFreshFiles(
    generatedImagesDir(options.codexHome, options.threadId),
    options.startedAt,
  );
  if (fromFolder.length > 0) return fromFolder;
  const found: CliImageCandidate[] = [];
  for (const rollout of await findRollouts(options)) {
    const info = await stat(rollout).catch(() => undefined);
    if (!info || info.mtimeMs < options.startedAt - MTIME_SLACK_MS) continue;
    const text = await readFile(rollout, "utf8").catch(() => "");
    found.push(...(await imagesFromRollout(text, rollout, options)));
  }
  return found;
}

/** Rollout files of a thread: `sessions/YYYY/MM/DD/rollout-…-<thread id>.jsonl` in the run's date folders. */
export async function findRollouts(options: FindCliImagesOptions): Promise<string[]> {
  const folders = new Set<string>();
  for (const at of [options.startedAt, options.endedAt]) {
    const day = new Date(at);
    // The CLI names the folder by its local date; the backend runs it in UTC, but a user-run CLI may not.
    folders.add(dateFolder(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()));
    folders.add(dateFolder(day.getFullYear(), day.getMonth() + 1, day.getDate()));
  }
  const suffix = `-${options.threadId}.jsonl`;
  const found: string[] = [];
  for (const folder of folders) {
    const dir = join(options.codexHome, "sessions", folder);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names)
      if (name.startsWith("rollout-") && name.endsWith(suffix)) found.push(join(dir, name));
  }
  return found;
}

async function readFreshFiles(dir: string, startedAt: number): Promise<CliImageCandidate[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const files: Array<{ path: string; mtimeMs: number }> = [];
  for (const name of names) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && info.mtimeMs >= startedAt - MTIME_SLACK_MS)
      files.push({ path, mtimeMs: info.mtimeMs });
  }
  files.sort((a, b) => a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path));
  const out: CliImageCandidate[] = [];
  for (const file of files) {
    const bytes = await readFile(file.path).catch(() => undefined);
    if (bytes && bytes.length > 0) out.push({ bytes: new Uint8Array(bytes), source: file.path });
  }
  return out;
}

async function imagesFromRollout(
  text: string,
  rolloutPath: string,
  options: FindCliImagesOptions,
): Promise<CliImageCandidate[]> {
  const out: CliImageCandidate[] = [];
  const seenPaths = new Set<string>();
  const imagesRoot = resolve(options.codexHome, "generated_images");
  for (const line of text.split("\n")) {
    if (!line.includes("savedPath") && !line.includes("image_generation") && !line.includes("image_gen"))
      continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    for (const item of imageItems(record)) {
      const revisedPrompt =
        typeof item.revisedPrompt === "string" ? item.revisedPrompt : stringOf(item.revised_prompt);
      const savedPath = stringOf(item.savedPath) ?? stringOf(item.saved_path);
      // Only files under this home's generated_images: the rollout is not a licence to read anywhere.
      if (savedPath && isInside(imagesRoot, resolve(savedPath)) && !seenPaths.has(savedPath)) {
        seenPaths.add(savedPath);
        const info = await stat(savedPath).catch(() => undefined);
        if (info && info.mtimeMs >= options.startedAt - MTIME_SLACK_MS) {
          const bytes = await readFile(savedPath).catch(() => undefined);
          if (bytes && bytes.length > 0) {
            out.push({
              bytes: new Uint8Array(bytes),
              source: savedPath,
              ...(revisedPrompt ? { revisedPrompt } : {}),
            });
            continue;
          }
        }
      }
      const result = stringOf(item.result);
      if (!result) continue;
      try {
        const bytes = base64ToBytes(result.replace(/^data:[^,]*,/, ""));
        if (bytes.length > 0) {
          out.push({ bytes, source: `rollout:${rolloutPath}`, ...(revisedPrompt ? { revisedPrompt } : {}) });
        }
      } catch {
        // Not base64 (a failure text): nothing to take from this item.
      }
    }
  }
  return out;
}

/**
 * Image items of one rollout line, in the shapes seen so far: 0.169.0 `event_msg` `item_completed` with
 * `item.kind == "image_gen.generation"`, and older `payload.type` `image_generation_call` /
 * `image_generation_end` with `payload.result`.
 */
function imageItems(record: unknown): Array<Record<string, unknown>> {
  const payload = (record as { payload?: unknown } | null)?.payload as Record<string, unknown> | undefined;
  if (!payload || typeof payload !== "object") return [];
  const items: Array<Record<string, unknown>> = [];
  if (payload.type === "image_generation_call" || payload.type === "image_generation_end")
    items.push(payload);
  const item = payload.item as Record<string, unknown> | undefined;
  if (item && typeof item === "object") {
    if (
      item.kind === "image_gen.generation" ||
      item.type === "image_generation_call" ||
      item.type === "ImageGeneration" ||
      typeof item.savedPath === "string"
    ) {
      items.push(item);
    }
  }
  return items;
}

function dateFolder(year: number, month: number, day: number): string {
  return join(String(year), String(month).padStart(2, "0"), String(day).padStart(2, "0"));
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith("..") && !rel.startsWith(sep) && !rel.includes(`..${sep}`);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

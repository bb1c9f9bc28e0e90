import { randomBytes } from "node:crypto";
import { mkdir, open, rename, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from "node:path";
import { type ImageFormat, sniffImage } from "@codex-img/core";
import { CliError, EXIT } from "./exit-codes.js";

export const DEFAULT_OUTPUT_DIR = join("assets", "generated");

const EXTENSION: Record<ImageFormat, string> = { png: "png", jpeg: "jpg", webp: "webp" };
const ACCEPTED_EXTENSIONS: Record<ImageFormat, readonly string[]> = {
  png: ["png"],
  jpeg: ["jpg", "jpeg"],
  webp: ["webp"],
};

export interface OutputOptions {
  /** `-o`: a file name, or a folder (existing, or ending in `/`). */
  out?: string;
  /** The workspace: relative paths resolve here, and printed paths are relative to it. */
  cwd: string;
  prompt: string;
  force: boolean;
  /** Called with things the user should know (an extension corrected to the real format). */
  warn: (message: string) => void;
}

interface Plan {
  dir: string;
  base: string;
  /** The extension the user typed, when `-o` named a file. */
  ext?: string;
  /** Auto-numbering (a folder or the default): never an error, the next free name instead. */
  auto: boolean;
}

/** The format a file name's extension names (`fox.jpg` -> jpeg), if any; a folder names none. */
export function formatOfName(out: string): ImageFormat | undefined {
  if (/[/\\]$/.test(out)) return undefined;
  const ext = extname(out).slice(1).toLowerCase();
  return (Object.keys(ACCEPTED_EXTENSIONS) as ImageFormat[]).find((format) =>
    ACCEPTED_EXTENSIONS[format].includes(ext),
  );
}

/** A file-system-safe, readable name from the prompt. */
export function slugify(prompt: string): string {
  const slug = prompt
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (slug.length <= 50) return slug || "image";
  const cut = slug.slice(0, 50);
  const dash = cut.lastIndexOf("-");
  return (dash > 20 ? cut.slice(0, dash) : cut).replace(/-+$/, "");
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function plan(options: OutputOptions): Promise<Plan> {
  const base = slugify(options.prompt);
  if (options.out === undefined) return { dir: resolve(options.cwd, DEFAULT_OUTPUT_DIR), base, auto: true };
  const target = resolve(options.cwd, options.out);
  if (/[/\\]$/.test(options.out) || (await isDirectory(target))) return { dir: target, base, auto: true };
  const ext = extname(target);
  return {
    dir: dirname(target),
    base: basename(target, ext),
    ...(ext ? { ext: ext.slice(1).toLowerCase() } : {}),
    auto: false,
  };
}

function display(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/**
 * Fails before any quota is spent when the file `-o` leads to exists (and `--force` is off): the name as
 * typed, with the extension of the format the image will have (`saveImages` corrects a wrong one). Images
 * of a `-n` run beyond the first are checked when they are saved.
 */
export async function precheckOutput(options: OutputOptions & { format: ImageFormat }): Promise<void> {
  const p = await plan(options);
  if (p.auto || options.force) return;
  const ext =
    p.ext !== undefined && ACCEPTED_EXTENSIONS[options.format].includes(p.ext)
      ? p.ext
      : EXTENSION[options.format];
  const path = join(p.dir, `${p.base}.${ext}`);
  if (await exists(path)) {
    throw new CliError(
      EXIT.outputExists,
      `${display(path, options.cwd)} exists; pass --force to replace it or choose another -o.`,
    );
  }
}

/**
 * Saves each image under the workspace and returns the paths as printed (relative to `cwd` when inside
 * it). The extension is the real format read from the bytes. Files are written to a temporary name and
 * renamed, so nobody sees half an image; a free name is claimed with an exclusive create, so two runs at
 * once never take the same number.
 */
export async function saveImages(images: readonly Uint8Array[], options: OutputOptions): Promise<string[]> {
  const p = await plan(options);
  await mkdir(p.dir, { recursive: true });
  const saved: string[] = [];
  for (const [index, bytes] of images.entries()) {
    const info = sniffImage(bytes);
    if (!info) throw new CliError(EXIT.upstream, "The server returned something that is not an image.");
    let ext = EXTENSION[info.format];
    if (p.ext !== undefined) {
      if (ACCEPTED_EXTENSIONS[info.format].includes(p.ext)) ext = p.ext;
      else if (index === 0) options.warn(`The image is ${info.format}; saving it as .${ext}, not .${p.ext}.`);
    }
    const tmp = join(p.dir, `.${p.base}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    await writeFile(tmp, bytes, { mode: 0o644 });
    try {
      const path = await claim(p, ext, index, options);
      await rename(tmp, path);
      saved.push(display(path, options.cwd));
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }
  return saved;
}

/** The path this image goes to, created empty so no concurrent run can take it. */
async function claim(p: Plan, ext: string, index: number, options: OutputOptions): Promise<string> {
  const nameFor = (n: number): string => join(p.dir, `${p.base}${n > 1 ? `-${n}` : ""}.${ext}`);
  if (!p.auto) {
    const path = nameFor(index + 1);
    if (options.force) return path;
    if (await tryCreate(path)) return path;
    throw new CliError(
      EXIT.outputExists,
      `${display(path, options.cwd)} exists; pass --force to replace it or choose another -o.`,
    );
  }
  for (let n = 1; n < 10_000; n++) {
    if (await tryCreate(nameFor(n))) return nameFor(n);
  }
  throw new CliError(EXIT.outputExists, `No free name left for ${p.base}.${ext} in ${p.dir}.`);
}

async function tryCreate(path: string): Promise<boolean> {
  try {
    const handle = await open(path, "wx");
    await handle.close();
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") return false;
    throw error;
  }
}

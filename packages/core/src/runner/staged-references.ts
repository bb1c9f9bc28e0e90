import { type ImageBytes, imageByteLength, receivedImage } from "../image/received-image.js";
import { type ImageInfo, sniffImage } from "../image/sniff.js";
import { verifyImage } from "../image/verify-image.js";
import type { StoredReferenceImage } from "../queue/job.js";
import { REQUEST_LIMITS } from "../request.js";
import type { ImageStore } from "../storage/image-store.js";

/**
 * The reference images of a request while it is received: each one is verified, hashed and written to the
 * image store (a `ref_` key) as soon as it has arrived, so the request side holds at most the one in hand
 * and the job carries keys, not bytes. A reference that fails a check is remembered rather than thrown,
 * because every entry point answers the request's other fields first (prompt, size, …) and the images
 * last; `enqueueStagedImageJob` reports it in that order, with the same error. What no job took is deleted by
 * `discard`, which the receiving side calls when the request ends, however it ends.
 */
export class StagedReferences {
  private readonly kept: StoredReferenceImage[] = [];
  private received = 0;
  private taken = false;
  /**
   * The first reference that is too large or not an image at all, with the message request validation
   * gives it (`normalizeImageRequest`): reported before any damaged image, as there.
   */
  unreadable: { index: number; message: string } | undefined;
  /** The first reference that is an image but not a whole, intact one (`verifyImage`). */
  damaged: { index: number; message: string } | undefined;

  constructor(private readonly images: ImageStore) {}

  /** References received so far, stored or not. */
  get count(): number {
    return this.received;
  }

  /** The stored references, in the order they arrived. */
  get stored(): StoredReferenceImage[] {
    return [...this.kept];
  }

  /** A job was created with them: they are its files now and `discard` leaves them alone. */
  takenByJob(): void {
    this.taken = true;
  }

  /**
   * Checks and stores one reference. Past a refused one nothing more is stored (the request will be
   * refused), but later ones are still counted, and sniffed, since an unreadable one is reported first.
   * A PNG given in the pieces it arrived in is verified, hashed and written from them: no joined copy.
   */
  async add(reference: ImageBytes): Promise<void> {
    const index = this.received++;
    if (this.unreadable || this.received > REQUEST_LIMITS.maxReferenceImages) return;
    const bytes = imageByteLength(reference);
    if (bytes > REQUEST_LIMITS.maxReferenceBytes) {
      this.unreadable = { index, message: `reference image ${index + 1} is larger than 50 MB` };
      return;
    }
    const { pieces, head } = receivedImage(reference);
    if (!sniffImage(head)) {
      this.unreadable = { index, message: `reference image ${index + 1} is not a PNG, JPEG or WebP image` };
      return;
    }
    if (this.damaged) return;
    let info: ImageInfo;
    try {
      info = await verifyImage(pieces);
    } catch (error) {
      this.damaged = { index, message: (error as Error).message };
      return;
    }
    // putStream hashes the bytes while it writes them: one pass instead of a digest and then a write. The
    // SHA-256 is asked for: it compares references in the request's hash, which is persisted.
    const object = await this.images.putStream(each(pieces), {
      format: info.format,
      prefix: "ref",
      sha256: true,
    });
    const { format, width, height } = info;
    const { key, sha256, bytes: size } = object;
    this.kept.push({ key, ...(sha256 ? { sha256 } : {}), format, width, height, bytes: size });
  }

  /** Deletes the stored references unless a job took them. */
  async discard(): Promise<void> {
    if (this.taken) return;
    const keys = this.kept.splice(0).map((ref) => ref.key);
    await Promise.all(keys.map((key) => this.images.delete(key).catch(() => false)));
  }
}

/** Bytes already in memory as a source for `putStream`. */
async function* each(pieces: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* pieces;
}

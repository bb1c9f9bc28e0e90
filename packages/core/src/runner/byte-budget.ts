import { CodexImgError } from "../errors.js";

/**
 * A budget of bytes shared by concurrent holders: `acquire(n)` waits (in arrival order) until `n` fits,
 * then holds it until the returned release runs. A single request larger than the whole budget runs
 * alone rather than never, so the budget bounds concurrency, never what a job may be.
 */
export class ByteBudget {
  private held = 0;
  private readonly waiting: Array<{ bytes: number; grant: () => void }> = [];

  constructor(readonly capacity: number) {}

  async acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    if (bytes <= 0) return () => undefined;
    if (this.waiting.length === 0 && this.fits(bytes)) this.held += bytes;
    else {
      await new Promise<void>((resolve, reject) => {
        const entry = {
          bytes,
          grant: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          const index = this.waiting.indexOf(entry);
          if (index !== -1) this.waiting.splice(index, 1);
          this.grantWaiting();
          reject(new CodexImgError("canceled", "The job was canceled while it waited for memory."));
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener("abort", onAbort, { once: true });
        this.waiting.push(entry);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= bytes;
      this.grantWaiting();
    };
  }

  private fits(bytes: number): boolean {
    return this.held === 0 || this.held + bytes <= this.capacity;
  }

  private grantWaiting(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0];
      if (!next || !this.fits(next.bytes)) return;
      this.waiting.shift();
      // Counted here, before the waiter resumes, so the next one in this loop sees it.
      this.held += next.bytes;
      next.grant();
    }
  }
}

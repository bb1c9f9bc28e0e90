/**
 * Remembers the hashes of recent outputs and which job produced them, so an image handed back for a new
 * job that is byte-identical to another job's output is caught as stale (the predecessor's incident: a
 * previous request's image returned as new). Bounded: the oldest entries are forgotten first.
 */
export class RecentOutputs {
  private readonly owners = new Map<string, string>();

  constructor(private readonly capacity = 10_000) {}

  /** The other job that already produced `hash`, if any. */
  ownerOtherThan(hash: string, jobId: string): string | undefined {
    const owner = this.owners.get(hash);
    return owner !== undefined && owner !== jobId ? owner : undefined;
  }

  remember(hash: string, jobId: string): void {
    this.owners.delete(hash);
    this.owners.set(hash, jobId);
    if (this.owners.size > this.capacity) {
      const oldest = this.owners.keys().next().value;
      if (oldest !== undefined) this.owners.delete(oldest);
    }
  }
}

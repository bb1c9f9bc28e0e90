import { afterEach, beforeEach, describe } from "vitest";
import type { JobStore } from "../queue/job-store.js";
import { describeAdmissionConformance } from "./job-store-admission-conformance.js";
import { claimNext, type StoreUnderTest } from "./job-store-conformance-support.js";
import { describeLeaseConformance } from "./job-store-lease-conformance.js";
import { describeReadConformance } from "./job-store-read-conformance.js";
import { describeRecoveryConformance } from "./job-store-recovery-conformance.js";

/** What a conformance run needs: a fresh, empty store per test. */
export interface JobStoreFixture {
  store: JobStore;
  close?(): Promise<void>;
}

/**
 * Registers the JobStore conformance tests. Every JobStore implementation runs this with a factory that
 * returns a fresh, empty store, so the memory and SQL stores are held to the same rules.
 */
export function describeJobStoreConformance(name: string, makeStore: () => Promise<JobStoreFixture>): void {
  describe(`JobStore conformance: ${name}`, () => {
    let fixture: JobStoreFixture;
    let store: JobStore;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.close?.();
    });

    const t: StoreUnderTest = {
      get store() {
        return store;
      },
      claimOne: (workerId, now) => claimNext(store, workerId, now),
    };
    describeAdmissionConformance(t);
    describeLeaseConformance(t);
    describeRecoveryConformance(t);
    describeReadConformance(t);
  });
}

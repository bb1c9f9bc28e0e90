import { type ApiHarness, type ApiHarnessOptions, createApiHarness } from "@codex-img/api/testing";
import { afterEach } from "vitest";

/**
 * API harnesses per test, closed after it: registers the suite's `afterEach` and returns `start`,
 * which a test calls with its own options over the suite's `defaults` (an admin password, say).
 */
export function harnessPerTest(
  defaults: ApiHarnessOptions = {},
): (options?: ApiHarnessOptions) => Promise<ApiHarness> {
  // Every harness a test started (some start two, to compare), each with its own temporary folder.
  const started: ApiHarness[] = [];
  afterEach(async () => {
    for (const harness of started.splice(0)) await harness.close();
  });
  return async (options = {}) => {
    const harness = await createApiHarness({
      ...defaults,
      ...options,
      options: { ...defaults.options, ...options.options },
    });
    started.push(harness);
    return harness;
  };
}

import { type ApiHarness, type ApiHarnessOptions, createApiHarness } from "@codex-img/api/testing";
import { afterEach } from "vitest";

/**
 * One API harness per test, closed after it: registers the suite's `afterEach` and returns `start`,
 * which a test calls with its own options over the suite's `defaults` (an admin password, say).
 */
export function harnessPerTest(
  defaults: ApiHarnessOptions = {},
): (options?: ApiHarnessOptions) => Promise<ApiHarness> {
  let harness: ApiHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  return async (options = {}) => {
    harness = await createApiHarness({
      ...defaults,
      ...options,
      options: { ...defaults.options, ...options.options },
    });
    return harness;
  };
}

/**
 * How the pool picks among accounts that can serve now:
 * - `quota-aware`: the most remaining quota in its tightest window, then the least busy, then the least
 *   recently used.
 * - `round-robin`: rotate in configuration order.
 * - `primary-first`: the first account in configuration order that can serve; others only as overflow.
 */
export type DispatchMode = "quota-aware" | "round-robin" | "primary-first";

export const DISPATCH_MODES: readonly DispatchMode[] = ["quota-aware", "round-robin", "primary-first"];

export function isDispatchMode(value: unknown): value is DispatchMode {
  return typeof value === "string" && (DISPATCH_MODES as readonly string[]).includes(value);
}

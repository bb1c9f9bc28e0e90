import type { DispatchMode } from "./api-types";

/** The pool's dispatch modes, in the order the selects offer them. */
export const DISPATCH_MODES: readonly DispatchMode[] = ["quota-aware", "round-robin", "primary-first"];

/** One line each on what the mode does, shown under the overview's select. */
export const DISPATCH_MODE_HINTS: Record<DispatchMode, string> = {
  "quota-aware": "Each attempt goes to the account with the most quota left.",
  "round-robin": "Accounts take turns.",
  "primary-first": "The first account until it is out; the others as overflow.",
};

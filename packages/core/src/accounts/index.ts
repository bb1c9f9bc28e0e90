/** Accounts, the account pool that picks one per attempt, and quota polling. Web-standard only. */
export * from "./account.js";
export * from "./account-pool.js";
export * from "./create-account-pool.js";
export * from "./dispatch-mode.js";
export * from "./failure-cooldown.js";
export * from "./quota-remaining.js";
export * from "./usage-poll.js";

export * from "./garbage-ledger.js";
export * from "./image-store.js";
export * from "./memory-image-store.js";
export * from "./store-images.js";

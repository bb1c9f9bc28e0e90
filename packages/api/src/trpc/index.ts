export * from "./app-router.js";
export * from "./create-trpc-handler.js";
export * from "./error-codes.js";
export { createTrpcContext, type TrpcContext } from "./trpc.js";

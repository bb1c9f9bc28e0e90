import { CodexImgError } from "../errors.js";

/**
 * The `CodexImgError` a promise rejects with. Fails the test when it resolves, and rethrows any other error
 * as it is (its own message and stack tell more than a failed type check).
 */
export async function rejection(promise: Promise<unknown>): Promise<CodexImgError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CodexImgError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

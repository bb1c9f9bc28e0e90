import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { ServerBindings } from "../http/admin-session.js";
import type { ApiServices } from "../services.js";
import { appRouter } from "./app-router.js";
import { createTrpcContext } from "./trpc.js";

/** Where the handler is mounted; procedure paths are read after it. */
export const TRPC_ENDPOINT = "/trpc";

/** The tRPC router as a `(Request) => Response` handler for requests under `/trpc/`. */
export function createTrpcHandler(
  services: ApiServices,
): (request: Request, server?: ServerBindings) => Promise<Response> {
  return (request, server) =>
    fetchRequestHandler({
      endpoint: TRPC_ENDPOINT,
      req: request,
      router: appRouter,
      createContext: ({ req, resHeaders }) => createTrpcContext(services, req, resHeaders, server),
    });
}

import type { ApiOptions, ApiServices } from "@codex-img/api";
import { createApiHarness, serveFetch } from "@codex-img/api/testing";
import type { ImageBackend, Runner } from "@codex-img/core";
import type { KeyLimits, KeyScope } from "@codex-img/db";

export interface ServedApi {
  /** `http://127.0.0.1:PORT`: the API over real HTTP. */
  url: string;
  services: ApiServices;
  runner: Runner;
  createKey(scopes?: KeyScope[], limits?: Partial<KeyLimits>): Promise<string>;
  close(): Promise<void>;
}

/**
 * The API on real components (libSQL file, file image store, runner), from `@codex-img/api/testing`,
 * served on loopback so the client talks to it over real HTTP.
 */
export async function serveApi(
  options: { backend?: ImageBackend; startRunner?: boolean; api?: Partial<ApiOptions> } = {},
): Promise<ServedApi> {
  // The reply URLs must point at the served address, which is known only after listening.
  let handler: (request: Request) => Response | Promise<Response> = () => new Response(null, { status: 503 });
  const served = await serveFetch((request) => handler(request));
  const harness = await createApiHarness({
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.startRunner === undefined ? {} : { startRunner: options.startRunner }),
    options: { publicBaseUrl: served.url, ...options.api },
  });
  handler = (request) => harness.app.fetch(request);
  return {
    url: served.url,
    services: harness.services,
    runner: harness.runner,
    createKey: (scopes, limits) => harness.createKey(scopes, limits),
    async close() {
      await served.close();
      await harness.close();
    },
  };
}

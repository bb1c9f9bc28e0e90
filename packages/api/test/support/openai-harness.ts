import { type ApiHarness, createApiHarness, serveFetch } from "@codex-img/api/testing";
import { createDemoBackend, type ImageBackend, type ImageRequest } from "@codex-img/core";
import { testPng } from "@codex-img/core/testing";
import type { KeyLimits, KeyScope } from "@codex-img/db";
import OpenAI, { type ClientOptions } from "openai";
import type { ApiOptions, ApiServices } from "../../src/services.js";

export interface OpenAiHarnessOptions {
  options?: Partial<ApiOptions>;
  /** Awaited before each backend call: tests hold jobs running with it, or throw to fail them. */
  beforeGenerate?: (request: ImageRequest) => Promise<void>;
  /** Partial images the backend reports before its result. Default 2. */
  partialImages?: number;
}

export interface ServedOpenAi {
  harness: ApiHarness;
  services: ApiServices;
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** `METHOD path` of every request that reached the server, to count SDK retries. */
  hits: string[];
  /** Every request the backend received, in order. */
  backendCalls: ImageRequest[];
  createKey(scopes?: KeyScope[], limits?: Partial<KeyLimits>): Promise<string>;
  /** An official SDK client on this server; `maxRetries` defaults to 0 unless a test is about retries. */
  client(apiKey: string, options?: ClientOptions): OpenAI;
  close(): Promise<void>;
}

/**
 * The shared API harness (real services, the whole app) served on loopback over node:http, with the demo
 * backend wrapped to report partial images the way the streaming upstream does.
 */
export async function serveOpenAiHarness(harnessOptions: OpenAiHarnessOptions = {}): Promise<ServedOpenAi> {
  const backendCalls: ImageRequest[] = [];
  const demo = createDemoBackend();
  const partialCount = harnessOptions.partialImages ?? 2;
  const backend: ImageBackend = {
    kind: "demo",
    async generate(request, generateOptions = {}) {
      backendCalls.push(request);
      await harnessOptions.beforeGenerate?.(request);
      for (let index = 0; index < partialCount; index++) {
        const bytes = await testPng(32, 32, index + 1);
        generateOptions.onEvent?.({
          type: "partial_image",
          index,
          image: { bytes, format: "png", width: 32, height: 32 },
        });
      }
      // The runner stores partials asynchronously and deletes them when the job ends; give a stream
      // time to read them first.
      if (partialCount > 0) await new Promise((resolve) => setTimeout(resolve, 150));
      return demo.generate(request, generateOptions);
    },
  };
  const harness = await createApiHarness({
    backend,
    options: { requestWaitTimeoutMs: 20_000, maxBodyBytes: 60 * 1024 * 1024, ...harnessOptions.options },
  });
  const hits: string[] = [];
  const served = await serveFetch((request) => {
    hits.push(`${request.method} ${new URL(request.url).pathname}`);
    return harness.app.fetch(request);
  });
  harness.services.options.publicBaseUrl = served.url;
  return {
    harness,
    services: harness.services,
    origin: served.url,
    hits,
    backendCalls,
    createKey: (scopes, limits) => harness.createKey(scopes, limits),
    client: (apiKey, clientOptions = {}) =>
      new OpenAI({ baseURL: `${served.url}/v1`, apiKey, maxRetries: 0, ...clientOptions }),
    async close() {
      await served.close();
      await harness.close();
    },
  };
}

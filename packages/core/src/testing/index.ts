/**
 * Test support shared by every package: fakes that speak exactly what shared/reference/upstream.md
 * describes, so tests never need the real upstream. Node-only (loopback servers, child processes).
 */
export * from "./cli-request-check.js";
export * from "./codex-home-fixture.js";
export * from "./fake-cli-routes.js";
export * from "./fake-codex-backend.js";
export * from "./fake-codex-cli.js";
export * from "./fake-codex-types.js";
export * from "./fake-openai-api.js";
export * from "./fake-openai-types.js";
export * from "./fake-token-endpoint.js";
export * from "./fake-upstream.js";
export * from "./fake-upstream-types.js";
export * from "./manual-clock.js";
export * from "./rejection.js";
export * from "./stored-image-request.js";
export * from "./test-images.js";

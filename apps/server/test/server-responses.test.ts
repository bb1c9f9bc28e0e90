import { sniffImage } from "@codex-img/core";
import { type FakeCodexBackend, testPng } from "@codex-img/core/testing";
import { type ServerWithLogin, startServerWithLogin } from "@codex-img/server/testing";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The official `openai` SDK's Responses API with the image tool, by `baseURL` alone, through a real
 * server process and its Codex login against the fake backend.
 */
describe("the Responses API with the image tool, through the server", () => {
  let started: ServerWithLogin | undefined;
  let upstream: FakeCodexBackend;
  let client: OpenAI;

  beforeAll(async () => {
    started = await startServerWithLogin({ prefix: "codex-img-responses-" });
    upstream = started.upstream;
    const { server } = started;
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.firstKey, maxRetries: 0 });
  }, 40_000);

  afterAll(async () => {
    await started?.close();
  });

  const imagesOf = (response: { output: Array<{ type: string }> }): Uint8Array[] =>
    response.output
      .filter(
        (item): item is { type: "image_generation_call"; result: string } =>
          item.type === "image_generation_call",
      )
      .map((item) => new Uint8Array(Buffer.from(item.result, "base64")));

  it("creates an image, then edits it in a second turn with previous_response_id", async () => {
    const first = await client.responses.create({
      model: "gpt-5.5",
      input: "A red fox in the snow",
      tools: [{ type: "image_generation", size: "1024x1536", quality: "high" }],
    });
    expect(first.id).toMatch(/^resp_/);
    expect(first.status).toBe("completed");
    const [image] = imagesOf(first);
    expect(sniffImage(image ?? new Uint8Array())).toEqual({ format: "png", width: 1024, height: 1536 });
    const sent = upstream.requests.filter((r) => r.url.endsWith("/images/generations")).at(-1);
    expect(sent?.json).toMatchObject({ prompt: "A red fox in the snow", size: "1024x1536", quality: "high" });

    const second = await client.responses.create({
      model: "gpt-5.5",
      previous_response_id: first.id,
      input: "Now make it night",
      tools: [{ type: "image_generation" }],
    });
    expect(second.status).toBe("completed");
    expect(second.previous_response_id).toBe(first.id);
    expect(imagesOf(second)).toHaveLength(1);
    // The first image went upstream as the reference of the edit.
    const edit = upstream.requests.filter((r) => r.url.endsWith("/images/edits")).at(-1);
    const references = (edit?.json as { images?: Array<{ image_url: string }> } | undefined)?.images ?? [];
    expect(references).toHaveLength(1);
    expect(references[0]?.image_url).toBe(
      `data:image/png;base64,${Buffer.from(image ?? []).toString("base64")}`,
    );

    // A GET answers exactly what the create did, the second turn's previous_response_id included.
    expect(await client.responses.retrieve(first.id)).toEqual(first);
    const stored = await client.responses.retrieve(second.id);
    expect(stored).toEqual(second);
    expect(stored.previous_response_id).toBe(first.id);
    expect(imagesOf(stored)).toHaveLength(1);
    const deleted = await client.responses.delete(first.id);
    expect(deleted).toMatchObject({ id: first.id, object: "response.deleted", deleted: true });
    const gone = await client.responses.retrieve(first.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("streams the image tool's events, ending with the image in output_item.done and response.completed", async () => {
    const reference = Buffer.from(await testPng(32, 32)).toString("base64");
    const stream = await client.responses.create({
      model: "gpt-5.5",
      stream: true,
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "Put this in a frame" },
            { type: "input_image", image_url: `data:image/png;base64,${reference}`, detail: "auto" },
          ],
        },
      ],
      // Its own size: the fake draws the same bytes for the same size, which the runner would take for
      // an earlier job's image returned again.
      tools: [{ type: "image_generation", output_format: "png", size: "1536x1024" }],
    });
    const types: string[] = [];
    let done: Uint8Array | undefined;
    let completed: { status?: string; output: Array<{ type: string }> } | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_item.done" && event.item.type === "image_generation_call") {
        done = new Uint8Array(Buffer.from(event.item.result ?? "", "base64"));
      }
      if (event.type === "response.completed") completed = event.response;
    }
    expect(types.slice(0, 4)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.image_generation_call.in_progress",
    ]);
    expect(types.at(-1)).toBe("response.completed");
    expect(types).toContain("response.image_generation_call.completed");
    expect(sniffImage(done ?? new Uint8Array())?.format).toBe("png");
    expect(completed?.status).toBe("completed");
    expect(completed && imagesOf(completed)).toHaveLength(1);
  });

  it("answers back what a response was created with, on create and on GET alike", async () => {
    const created = await client.responses.create({
      model: "gpt-5.5",
      input: "A blue kite over a beach",
      instructions: "Keep it simple.",
      metadata: { run: "42", team: "design" },
      user: "user-7",
      tools: [{ type: "image_generation", size: "1152x896", quality: "low", background: "opaque" }],
    });
    expect(created).toMatchObject({
      model: "gpt-5.5",
      instructions: "Keep it simple.",
      metadata: { run: "42", team: "design" },
      user: "user-7",
      store: true,
      previous_response_id: null,
      tools: [{ type: "image_generation", size: "1152x896", quality: "low", background: "opaque" }],
    });
    expect(await client.responses.retrieve(created.id)).toEqual(created);
  });

  it("never hands out a store:false response again, while its job and images stay the caller's", async () => {
    const unstored = await client.responses.create({
      model: "gpt-5.5",
      store: false,
      input: "A green lantern",
      // Each test its own size: the fake draws the same bytes for the same size (see the stream test).
      tools: [{ type: "image_generation", size: "1280x768" }],
    });
    expect(unstored).toMatchObject({ status: "completed", store: false });
    const fail = (promise: Promise<unknown>): Promise<unknown> =>
      promise.then(
        () => undefined,
        (e: unknown) => e,
      );

    const retrieved = await fail(client.responses.retrieve(unstored.id));
    expect(retrieved).toBeInstanceOf(OpenAI.NotFoundError);
    expect((retrieved as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({
      type: "not_found_error",
      code: "not_found",
      message: `Response with id '${unstored.id}' not found.`,
    });
    expect(await fail(client.responses.delete(unstored.id))).toBeInstanceOf(OpenAI.NotFoundError);

    const continued = await fail(
      client.responses.create({
        model: "gpt-5.5",
        previous_response_id: unstored.id,
        input: "Make it red",
        tools: [{ type: "image_generation" }],
      }),
    );
    expect(continued).toBeInstanceOf(OpenAI.BadRequestError);
    expect(continued).toMatchObject({
      status: 400,
      code: "previous_response_not_found",
      param: "previous_response_id",
    });
    // An id that never existed is refused in the same words.
    const unknown = await fail(
      client.responses.create({
        model: "gpt-5.5",
        previous_response_id: "resp_aaaaaaaaaaaaaaaaaaaaaaaaaa",
        input: "Make it red",
        tools: [{ type: "image_generation" }],
      }),
    );
    expect(unknown).toMatchObject({ status: 400, code: "previous_response_not_found" });

    // The job is still the caller's history (and counted); its image can still be downloaded.
    const server = started?.server;
    const headers = { authorization: `Bearer ${server?.firstKey}` };
    const job = await fetch(`${server?.url}/v1/images/jobs/img_${unstored.id.slice(5)}`, { headers });
    expect(job.status).toBe(200);
    const record = (await job.json()) as { status: string; images: Array<{ url: string }> };
    expect(record.status).toBe("succeeded");
    const download = await fetch(record.images[0]?.url ?? "");
    expect(download.status).toBe(200);
    const [image] = imagesOf(unstored);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(Buffer.from(image ?? []));
  });

  it("refuses a request without the image tool with 400 unsupported_tool", async () => {
    const error = await client.responses.create({ model: "gpt-5.5", input: "Hello" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("unsupported_tool");
  });

  // Last: the fallback makes the account remember the Responses route for the rest of the file.
  it("passes input_fidelity to the hosted tool upstream when the Responses route serves the edit", async () => {
    upstream.script.images.push({ kind: "route_missing" });
    const reference = Buffer.from(await testPng(24, 24)).toString("base64");
    const response = await client.responses.create({
      model: "gpt-5.5",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "Keep the face, change the hat" },
            { type: "input_image", image_url: `data:image/png;base64,${reference}`, detail: "auto" },
          ],
        },
      ],
      tools: [{ type: "image_generation", input_fidelity: "high", size: "768x768" }],
    });
    expect(response.status).toBe("completed");
    expect(imagesOf(response)).toHaveLength(1);
    const turn = upstream.requests.filter((r) => r.url.endsWith("/codex/responses")).at(-1);
    const tools = (turn?.json as { tools?: Array<Record<string, unknown>> } | undefined)?.tools ?? [];
    expect(tools).toEqual([expect.objectContaining({ type: "image_generation", input_fidelity: "high" })]);
    expect(upstream.mismatches).toEqual([]);
  });
});

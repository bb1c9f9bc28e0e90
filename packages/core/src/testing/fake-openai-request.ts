import { IMAGE_MIME_TYPES, sniffImage } from "../image/index.js";
import type { FakeMultipartPart, FakeOpenAiRequest } from "./fake-openai-types.js";
import type { RecordedRequest } from "./fake-upstream-types.js";

/** An image request as the fake's script sees it; throws with the API's message for an unreadable body. */
export async function parseFakeOpenAiRequest(
  route: FakeOpenAiRequest["route"],
  recorded: RecordedRequest,
  contentType: string,
): Promise<FakeOpenAiRequest> {
  const base = { route, headers: recorded.headers, contentType };
  if (contentType.startsWith("application/json")) {
    if (typeof recorded.json !== "object" || recorded.json === null || Array.isArray(recorded.json)) {
      throw new Error("We could not parse the JSON body of your request.");
    }
    const json = recorded.json as Record<string, unknown>;
    const fields = Object.fromEntries(
      Object.entries(json)
        .filter(([, value]) => typeof value !== "object" || value === null)
        .map(([key, value]) => [key, String(value)]),
    );
    return { ...base, json, fields, files: [] };
  }
  if (contentType.startsWith("multipart/form-data")) {
    // The Web `Request` parses multipart exactly as a server framework would; no hand-rolled parser.
    const request = new Request("http://fake.invalid/", {
      method: "POST",
      headers: { "content-type": contentType },
      body: new Uint8Array(recorded.body),
    });
    const form = await request.formData();
    const parts: FakeMultipartPart[] = [];
    for (const [name, value] of form.entries()) {
      if (typeof value === "string") {
        parts.push({ name, value });
      } else {
        const bytes = new Uint8Array(await value.arrayBuffer());
        parts.push({ name, filename: value.name, type: value.type, size: bytes.length, bytes });
      }
    }
    const fields = Object.fromEntries(
      parts.filter((p) => p.value !== undefined).map((p) => [p.name, p.value ?? ""]),
    );
    return { ...base, parts, fields, files: parts.filter((p) => p.bytes !== undefined) };
  }
  throw new Error(`Unsupported content type '${contentType}': send application/json or multipart/form-data.`);
}

/** What the real API rejects before generating anything; undefined when the request is acceptable. */
export function validateFakeOpenAiRequest(
  request: FakeOpenAiRequest,
): { message: string; param: string } | undefined {
  const { fields } = request;
  if (!fields.prompt) return { message: "Missing required parameter: 'prompt'.", param: "prompt" };
  const n = fields.n === undefined ? 1 : Number(fields.n);
  if (!Number.isInteger(n) || n < 1 || n > 10) {
    return { message: `Invalid value: '${fields.n}'. Expected an integer between 1 and 10.`, param: "n" };
  }
  if (fields.size !== undefined && fields.size !== "auto" && !/^\d+x\d+$/.test(fields.size)) {
    return {
      message: `Invalid value: '${fields.size}'. Supported values are 'auto' or 'WxH'.`,
      param: "size",
    };
  }
  if (request.route === "generations" && request.files.length > 0) {
    return { message: "Image files are only accepted by /images/edits.", param: "image" };
  }
  // The public API takes `input_fidelity` on edits only (`low` or `high`).
  if (fields.input_fidelity !== undefined) {
    if (request.route === "generations") {
      return { message: "Unknown parameter: 'input_fidelity'.", param: "input_fidelity" };
    }
    if (fields.input_fidelity !== "low" && fields.input_fidelity !== "high") {
      return {
        message: `Invalid value: '${fields.input_fidelity}'. Supported values are: 'low' and 'high'.`,
        param: "input_fidelity",
      };
    }
  }
  if (request.route === "edits") {
    if (!request.contentType.startsWith("multipart/form-data")) {
      return {
        message: "This fake expects edits as multipart/form-data, as the SDK sends them.",
        param: "image",
      };
    }
    const images = request.files.filter((file) => file.name === "image" || file.name === "image[]");
    if (images.length === 0) return { message: "Missing required parameter: 'image'.", param: "image" };
    if (images.length > 16) return { message: "Too many images: at most 16 are accepted.", param: "image" };
    for (const [index, file] of images.entries()) {
      const sniffed = file.bytes ? sniffImage(file.bytes) : undefined;
      const allowed = Object.values(IMAGE_MIME_TYPES);
      if (!file.type || !allowed.includes(file.type)) {
        return {
          message: `Invalid file 'image[${index}]': unsupported mimetype ('${file.type || "application/octet-stream"}'). Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.`,
          param: "image",
        };
      }
      if (!sniffed || IMAGE_MIME_TYPES[sniffed.format] !== file.type) {
        return {
          message: `Invalid image file or mode for image ${index + 1}, please check your image file.`,
          param: "image",
        };
      }
    }
  }
  return undefined;
}

import {
  CodexImgError,
  isCodexImgError,
  REQUEST_LIMITS,
  receivedImage,
  StagedReferences,
} from "@codex-img/core";
import {
  MaxFileSizeExceededError,
  MaxTotalSizeExceededError,
  parseMultipartRequest,
} from "@remix-run/multipart-parser";
import type { Context } from "hono";
import type { AppEnv } from "../app-env.js";
import { readJsonWithReferences } from "../http/json-references.js";
import { decodeUtf8 } from "../http/native-error.js";
import { checkReference, invalidImage, referenceFromString } from "../services/reference-input.js";
import { stageReferences } from "../services/submit-image-job.js";
import type { ApiServices } from "../services.js";
import {
  formFieldValue,
  type OpenAiImageOptions,
  openAiImageOptionsSchema,
  openAiJsonEditSchema,
  parseOpenAi,
} from "./openai-schemas.js";

/** 16 images, a mask and the option fields, with room to spare; more parts is not an edit. */
const MAX_EDIT_PARTS = 64;

export interface EditInput {
  options: OpenAiImageOptions;
  /** The references, already in the image store. */
  staged: StagedReferences;
  maskIgnored: boolean;
}

/** Where the JSON bodies of these routes carry reference images (kept as bytes while read). */
const JSON_EDIT_REFERENCES = ["images.*.image_url", "mask.image_url"];

/** What `POST /v1/images/edits` was sent, multipart or JSON, with its references already stored. */
export function readEditInput(c: Context<AppEnv>, services: ApiServices): Promise<EditInput> {
  return isMultipart(c) ? readMultipartEdit(c, services) : readJsonEdit(c, services);
}

function isMultipart(c: Context<AppEnv>): boolean {
  return (c.req.header("content-type") ?? "").toLowerCase().startsWith("multipart/form-data");
}

/**
 * A multipart edit read as a stream of parts: each part is collected alone and checked as it ends, so a
 * request holds its references once (not the whole body, then `File`s, then their copies). Parts past
 * the limits (file size, part count, total) stop the parse at once.
 */
async function readMultipartEdit(c: Context<AppEnv>, services: ApiServices): Promise<EditInput> {
  const staged = new StagedReferences(services.images);
  try {
    return await readMultipartParts(c, services, staged);
  } catch (error) {
    await staged.discard();
    throw error;
  }
}

/**
 * The parts of a multipart edit, each image stored as soon as its part has ended (`staged`), so a
 * request holds one part at a time, never all its references.
 */
async function readMultipartParts(
  c: Context<AppEnv>,
  services: ApiServices,
  staged: StagedReferences,
): Promise<EditInput> {
  const fields: Record<string, unknown> = {};
  let maskIgnored = false;
  let images = 0;
  try {
    for await (const part of parseMultipartRequest(c.req.raw, {
      maxFileSize: REQUEST_LIMITS.maxReferenceBytes,
      maxTotalSize: services.options.maxBodyBytes,
      maxParts: MAX_EDIT_PARTS,
    })) {
      const name = part.name ?? "";
      // `part.text` would decode invalid UTF-8 to U+FFFD; text fields follow the JSON routes' rule.
      const text = (): string => decodeUtf8(part.bytes, name || "body");
      if (name === "image" || name === "image[]") {
        images += 1;
        if (images > 16) throw invalidImage("image", "at most 16 images are allowed.");
        const index = staged.count;
        // A file part is checked and stored from the chunks it arrived in (a PNG is never joined into a
        // copy of itself: `receivedImage`); the parser lets go of them here, so once stored they are garbage.
        const reference = part.isFile
          ? checkReference(receivedImage(part.content.splice(0)).pieces, index, "image")
          : referenceFromString(text(), index, "image");
        await staged.add(reference);
      } else if (name === "mask") {
        if (part.isFile) checkReference(part.content, 0, "mask");
        else referenceFromString(text(), 0, "mask");
        maskIgnored = true;
      } else if (!part.isFile && !(name in fields)) {
        fields[name] = formFieldValue(name, text());
      }
    }
  } catch (error) {
    // The door cut the body (too large, too slow, over budget), or a reference was refused: as is.
    if (isCodexImgError(error)) throw error;
    if (error instanceof MaxFileSizeExceededError) {
      throw invalidImage("image", `an image is larger than ${REQUEST_LIMITS.maxReferenceBytes} bytes.`);
    }
    if (error instanceof MaxTotalSizeExceededError) {
      throw new CodexImgError(
        "body_too_large",
        `The request body is larger than ${services.options.maxBodyBytes} bytes.`,
        {
          details: { param: "body", limit: services.options.maxBodyBytes },
        },
      );
    }
    throw new CodexImgError("invalid_request", "The multipart/form-data body could not be read.", {
      details: { param: "body" },
    });
  }
  const options = parseOpenAi(openAiImageOptionsSchema, fields);
  if (staged.count === 0) throw invalidImage("image", "image is required: send one or more image files.");
  return { options, staged, maskIgnored };
}

async function readJsonEdit(c: Context<AppEnv>, services: ApiServices): Promise<EditInput> {
  const json = await readJsonWithReferences(c, services.options.maxBodyBytes, JSON_EDIT_REFERENCES);
  const parsed = parseOpenAi(openAiJsonEditSchema, json.value);
  const references = parsed.images.map((ref, index) =>
    referenceFromString(ref.image_url, index, `images.${index}.image_url`, json),
  );
  if (parsed.mask) referenceFromString(parsed.mask.image_url, 0, "mask.image_url", json);
  json.dispose();
  const staged = await stageReferences(services, references);
  return { options: parsed, staged, maskIgnored: Boolean(parsed.mask) };
}

/** Models `GET /v1/models` lists; all run on what the subscription serves. */
export const LISTED_MODELS = [
  "gpt-image-2",
  "gpt-image-1.5",
  "gpt-image-1",
  "gpt-image-1-mini",
  "dall-e-3",
  "dall-e-2",
];
/** A fixed `created` for the listing (2025-01-01): these are aliases, not models we trained. */
const MODELS_CREATED = 1_735_689_600;

/** A listed model as OpenAI's `Model` object. */
export function modelObject(id: string): { id: string; object: "model"; created: number; owned_by: string } {
  return { id, object: "model", created: MODELS_CREATED, owned_by: "codex-img" };
}

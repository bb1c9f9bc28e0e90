export {
  createOpenAiBackend,
  OPENAI_DEFAULT_BASE_URL,
  OPENAI_DEFAULT_TIMEOUT_MS,
  type OpenAiBackendOptions,
} from "./openai/create-openai-backend.js";

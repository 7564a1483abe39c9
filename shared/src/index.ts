export {
  type ClippedText,
  DEFAULT_MAX_RESPONSE_CHARS,
  type FittedItems,
  jsonLength,
  ResponseBudget,
} from "./budget.js";
export {
  ConfigError,
  type ConfigOf,
  type OptionSpec,
  type OptionsSpec,
  option,
  parseCommandLine,
  renderHelp,
} from "./config.js";
export { ERROR_CODES, type ErrorCode, isToolError, ToolError, type ToolErrorOptions } from "./errors.js";
export { type HostOptions, hostOptions } from "./host-options.js";
export { createLogger, type Logger, type LogLevel, redact, redactValue } from "./log.js";
export {
  sanitizeDeep,
  sanitizeMarkup,
  sanitizeText,
  sanitizeTextWithCount,
  UNTRUSTED_META_KEY,
} from "./sanitize.js";
export {
  createSessionServer,
  defineServer,
  type HostConfig,
  type HostEnvironment,
  runServer,
  type ServerApp,
  type ServerInfo,
  type ServerSpec,
} from "./server.js";
export type { Session } from "./session.js";
export { StdioTransport } from "./stdio.js";
export { defineTool, type Tool, type ToolAnnotations, type ToolContext, type ToolReply } from "./tool.js";

export const LOG_LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const SEVERITY: Record<LogLevel, number> = Object.fromEntries(LOG_LEVELS.map((level, i) => [level, i])) as Record<
  LogLevel,
  number
>;

export type LogFields = Record<string, unknown>;
export type LogSink = (level: LogLevel, logger: string, message: string, fields: LogFields | undefined) => void;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that also sends to `sink` (e.g. MCP log notifications for one session). */
  withSink(sink: LogSink): Logger;
  child(name: string): Logger;
}

const SECRET_KEY = /pass(word)?|secret|token|authori[sz]ation|api[-_]?key|cookie|credential|private[-_]?key/i;
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  // user:password@ in any URL or connection string
  [/([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]+@/gi, "$1[redacted]@"],
  [/\b(bearer|basic)\s+[a-z0-9._~+/=-]{8,}/gi, "$1 [redacted]"],
  [
    /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-[A-Za-z0-9_-]{16,}|xox[abposr]-[A-Za-z0-9-]{10,})/g,
    "[redacted]",
  ],
  [/\b(password|passwd|pwd|token|secret|api[-_]?key)=([^&\s;]+)/gi, "$1=[redacted]"],
];

/** Removes credentials from a string: passwords in URLs, bearer tokens, well-known token shapes. */
export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Redacts a value for logging: secret-named keys are blanked, strings are scrubbed. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redact(value);
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) {
    return { name: value.name, message: redact(value.message), stack: value.stack ? redact(value.stack) : undefined };
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] =
      SECRET_KEY.test(key) && item !== undefined && item !== null ? "[redacted]" : redactValue(item, depth + 1);
  }
  return out;
}

export interface LoggerOptions {
  level?: LogLevel;
  name?: string;
  /** Where lines go; stderr by default. Never stdout: in a stdio server stdout carries the protocol. */
  write?: (line: string) => void;
}

const writeStderr = (line: string) => {
  process.stderr.write(line);
};

export function createLogger(options: LoggerOptions = {}): Logger {
  return makeLogger(SEVERITY[options.level ?? "info"], options.name ?? "server", options.write ?? writeStderr, []);
}

function makeLogger(min: number, name: string, write: (line: string) => void, sinks: LogSink[]): Logger {
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    const safeMessage = redact(message);
    const safeFields = fields === undefined ? undefined : (redactValue(fields) as LogFields);
    if (SEVERITY[level] >= min) {
      write(
        `${JSON.stringify({ time: new Date().toISOString(), level, logger: name, msg: safeMessage, ...safeFields })}\n`,
      );
    }
    for (const sink of sinks) {
      try {
        sink(level, name, safeMessage, safeFields);
      } catch {
        // A broken sink must never break the caller.
      }
    }
  };
  return {
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warning", message, fields),
    error: (message, fields) => emit("error", message, fields),
    withSink: (sink) => makeLogger(min, name, write, [...sinks, sink]),
    child: (child) => makeLogger(min, `${name}.${child}`, write, sinks),
  };
}

export const isLogLevel = (value: string): value is LogLevel => (LOG_LEVELS as readonly string[]).includes(value);
export const severity = (level: LogLevel): number => SEVERITY[level];

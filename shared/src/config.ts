import type { z } from "zod";

export type OptionType = "string" | "boolean" | "number" | "list";

export interface OptionSpec<T = unknown> {
  type: OptionType;
  /** Long flag without dashes, e.g. `read-only`. Booleans also accept `--no-<flag>`. */
  flag: string;
  /** Environment variables read when the flag is absent, first one set wins. */
  env?: string | readonly string[];
  help: string;
  /** Validates (and defaults) the value after it was read from a flag or the environment. */
  schema: z.ZodType<T>;
  /** Collects the command's positional arguments (only one option per server may). */
  positional?: boolean;
  /** Never echoed in errors or `--help` defaults. */
  secret?: boolean;
  /** Placeholder shown in `--help`. */
  placeholder?: string;
}

export type OptionsSpec = Record<string, OptionSpec>;
export type ConfigOf<S extends OptionsSpec> = { [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

/** Declares one setting with its type inferred from the schema. */
export const option = <T>(spec: OptionSpec<T>): OptionSpec<T> => spec;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export type ParsedCommand<S extends OptionsSpec> =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "run"; config: ConfigOf<S> };

const envNames = (spec: OptionSpec): readonly string[] =>
  spec.env === undefined ? [] : typeof spec.env === "string" ? [spec.env] : spec.env;

/**
 * Reads settings from argv and the environment (a flag beats its environment variable) and validates
 * them. Throws ConfigError with a one-line message naming the setting.
 */
export function parseCommandLine<S extends OptionsSpec>(
  spec: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedCommand<S> {
  const byFlag = new Map<string, [string, OptionSpec]>();
  let positionalKey: string | undefined;
  for (const [key, opt] of Object.entries(spec)) {
    byFlag.set(opt.flag, [key, opt]);
    if (opt.positional) positionalKey = key;
  }
  const fromArgs = new Map<string, string[] | boolean>();
  const positional: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--help" || arg === "-h") return { kind: "help" };
    if (arg === "--version" || arg === "-v") return { kind: "version" };
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let inline = eq === -1 ? undefined : arg.slice(eq + 1);
    let entry = byFlag.get(name);
    if (!entry && name.startsWith("no-")) {
      const negated = byFlag.get(name.slice(3));
      if (negated && negated[1].type === "boolean" && inline === undefined) {
        entry = negated;
        name = name.slice(3);
        inline = "false";
      }
    }
    if (!entry) throw new ConfigError(`unknown option --${name}`);
    const [key, opt] = entry;
    if (opt.type === "boolean") {
      fromArgs.set(key, inline === undefined ? true : parseBoolean(inline, `--${name}`));
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    const previous = fromArgs.get(key);
    const list = Array.isArray(previous) ? previous : [];
    list.push(value);
    fromArgs.set(key, list);
  }

  if (positional.length > 0 && !positionalKey) {
    throw new ConfigError(`unexpected argument ${JSON.stringify(positional[0])}`);
  }

  const raw: Record<string, unknown> = {};
  for (const [key, opt] of Object.entries(spec)) {
    const label = describe(opt);
    const given = fromArgs.get(key);
    if (given !== undefined) {
      // A positional list given partly as flags and partly as arguments means all of them.
      const values = typeof given !== "boolean" && key === positionalKey ? [...given, ...positional] : given;
      raw[key] = typeof values === "boolean" ? values : convert(opt, values, label);
    } else if (key === positionalKey && positional.length > 0) {
      raw[key] = convert(opt, positional, label);
    } else {
      const name = envNames(opt).find((n) => env[n] !== undefined && env[n] !== "");
      if (name !== undefined) raw[key] = convert(opt, [env[name] as string], label);
    }
  }

  const config: Record<string, unknown> = {};
  for (const [key, opt] of Object.entries(spec)) {
    const result = opt.schema.safeParse(raw[key]);
    if (!result.success) {
      const issue = result.error.issues[0];
      const shown = opt.secret || raw[key] === undefined ? "" : ` (got ${JSON.stringify(raw[key])})`;
      throw new ConfigError(`invalid setting ${describe(opt)}: ${issue?.message ?? "invalid value"}${shown}`);
    }
    config[key] = result.data;
  }
  return { kind: "run", config: config as ConfigOf<S> };
}

function describe(opt: OptionSpec): string {
  const env = envNames(opt);
  return opt.positional ? `<${opt.placeholder ?? opt.flag}>` : `--${opt.flag}${env.length ? ` (${env[0]})` : ""}`;
}

function parseBoolean(value: string, label: string): boolean {
  const v = value.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off", ""].includes(v)) return false;
  throw new ConfigError(`${label} must be true or false (got ${JSON.stringify(value)})`);
}

function convert(opt: OptionSpec, values: string[], label: string): unknown {
  const last = values[values.length - 1] as string;
  switch (opt.type) {
    case "boolean":
      return parseBoolean(last, label);
    case "number": {
      const n = Number(last.trim());
      if (last.trim() === "" || !Number.isFinite(n)) {
        throw new ConfigError(`invalid setting ${label}: expected a number (got ${JSON.stringify(last)})`);
      }
      return n;
    }
    case "list":
      return opt.positional
        ? values
        : values.flatMap((v) =>
            v
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
          );
    default:
      return last;
  }
}

/** The `--help` text: usage, then every setting with its flag, environment variable and default. */
export function renderHelp(
  info: { bin: string; description: string; usage?: string },
  groups: ReadonlyArray<{ title: string; spec: OptionsSpec }>,
): string {
  const lines = [info.description, "", `Usage: ${info.bin} ${info.usage ?? "[options]"}`];
  for (const group of groups) {
    lines.push("", `${group.title}:`);
    for (const opt of Object.values(group.spec)) {
      if (opt.positional) {
        const name = opt.placeholder ?? opt.flag;
        lines.push(`  <${name.replace(/…$/, "")}>…  (or --${opt.flag} <value>, repeatable)`);
        lines.push(`      ${opt.help}`);
        continue;
      }
      const value = opt.type === "boolean" ? "" : ` <${opt.placeholder ?? opt.type}>`;
      const env = envNames(opt);
      const fallback = opt.secret ? undefined : defaultOf(opt);
      lines.push(`  --${opt.flag}${value}`);
      lines.push(`      ${opt.help}`);
      const extra = [
        env.length ? `env ${env.join(", ")}` : "",
        fallback !== undefined ? `default ${JSON.stringify(fallback)}` : "",
      ].filter(Boolean);
      if (extra.length) lines.push(`      (${extra.join("; ")})`);
    }
  }
  lines.push("", "  --help      show this help", "  --version   print the version");
  return `${lines.join("\n")}\n`;
}

function defaultOf(opt: OptionSpec): unknown {
  const result = opt.schema.safeParse(undefined);
  return result.success && result.data !== undefined ? result.data : undefined;
}

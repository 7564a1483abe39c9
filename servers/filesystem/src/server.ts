import { ConfigError, defineServer, type Tool } from "@portside/shared";
import pkg from "../package.json" with { type: "json" };
import { type FilesystemConfig, options } from "./config.js";
import { DenyList } from "./sandbox/deny.js";
import { Sandbox } from "./sandbox/sandbox.js";
import { browseTools } from "./tools/browse.js";
import type { FilesystemApp } from "./tools/context.js";
import { readTools } from "./tools/read.js";
import { searchContentTool } from "./tools/search-content.js";
import { deleteTools, writeTools } from "./tools/write.js";

/** Read from the package manifest, so a version bump can never leave the server announcing the old one. */
export const VERSION = pkg.version;

/** The tool list for a configuration: write tools only when writable, delete only when enabled. */
export function toolsFor(app: FilesystemApp): Tool[] {
  const tools = [...readTools(app), ...browseTools(app), searchContentTool(app)];
  if (!app.config.readOnly) {
    tools.push(...writeTools(app));
    if (app.config.allowDelete) tools.push(...deleteTools(app));
  }
  return tools;
}

export function instructionsFor(app: FilesystemApp): string {
  const mode = app.config.readOnly
    ? "Read-only: files can be read, listed and searched, not changed."
    : `Files can be read, written, edited, moved and copied${app.config.allowDelete ? " and deleted" : " (not deleted)"}.`;
  return [
    `Gives access to files below these directories: ${app.operator.directories.join(", ")}.`,
    mode,
    "Paths may be absolute or relative to the first directory; nothing outside the directories can be reached.",
    "Large files are read in pages (read_text_file offset/limit); search_content finds text, search_files finds names.",
  ].join(" ");
}

/** Builds the app for a configuration: resolves the directories once, for every session. */
export async function createApp(config: FilesystemConfig, warn: (message: string) => void): Promise<FilesystemApp> {
  if (process.platform === "win32") {
    // The sandbox's path rules and its checks on open descriptors are written for POSIX systems.
    throw new ConfigError("Windows is not supported yet: run the server under WSL (see the README)");
  }
  const { sandbox, skipped } = await Sandbox.fromDirectories(config.directories, new DenyList(config.deny));
  for (const { dir, reason } of skipped) warn(`skipping directory ${JSON.stringify(dir)}: ${reason}`);
  if (sandbox.roots.length === 0) {
    throw new ConfigError(
      `none of the directories can be served (${skipped.map((s) => `${s.dir}: ${s.reason}`).join("; ")})`,
    );
  }
  return { config, operator: sandbox };
}

export const server = defineServer({
  info: {
    name: pkg.name,
    version: VERSION,
    title: "Portside filesystem",
    description: "Sandboxed access to files in the directories you choose: read, search, write and edit them.",
    bin: "portside-filesystem",
    usage: "[options] <dir> [<dir>…]",
  },
  options,
  async start(config, env) {
    const app = await createApp(config, (message) => env.log.warn(message));
    env.log.debug("serving directories", { directories: app.operator.directories, readOnly: config.readOnly });
    return { instructions: instructionsFor(app), tools: toolsFor(app) };
  },
});

import { option } from "@portside/shared";
import { z } from "zod";
import { MAX_PATH_LENGTH } from "./sandbox/policy.js";

const MiB = 1024 * 1024;

/** A glob from a comma-separated list must not have been split inside braces. */
const denyGlob = z
  .string()
  .min(1)
  .max(MAX_PATH_LENGTH, `must be at most ${MAX_PATH_LENGTH} characters (no path is longer)`)
  .refine((p) => (p.match(/\{/g)?.length ?? 0) === (p.match(/\}/g)?.length ?? 0), {
    message: "unbalanced braces (a comma inside {…} splits the list: repeat --deny once per pattern instead)",
  });

export const options = {
  directories: option({
    type: "list",
    flag: "dir",
    positional: true,
    placeholder: "dir…",
    help: "Directories the server may access (everything below them). At least one is required.",
    schema: z
      .array(z.string().min(1), { error: "give at least one directory to serve, e.g. portside-filesystem ~/projects" })
      .min(1, "give at least one directory to serve, e.g. portside-filesystem ~/projects"),
  }),
  readOnly: option({
    type: "boolean",
    flag: "read-only",
    env: "FILESYSTEM_READ_ONLY",
    help: "Register only the reading tools; nothing can be written, moved or deleted.",
    schema: z.boolean().default(false),
  }),
  deny: option({
    type: "list",
    flag: "deny",
    env: "FILESYSTEM_DENY",
    placeholder: "glob",
    help:
      "Glob of paths nobody may read, list or write (repeatable). No '/': any entry with that name (.env); " +
      "leading '/': an absolute path; otherwise relative to each allowed directory (secrets/**).",
    schema: z.array(denyGlob).default([]),
  }),
  maxReadBytes: option({
    type: "number",
    flag: "max-read-bytes",
    env: "FILESYSTEM_MAX_READ_BYTES",
    help: "Largest file loaded whole: read_media_file, edit_file, search_content and the hash in get_file_info.",
    schema: z
      .number()
      .int()
      .min(1024)
      .max(1024 * MiB)
      .default(10 * MiB),
  }),
  allowDelete: option({
    type: "boolean",
    flag: "allow-delete",
    env: "FILESYSTEM_ALLOW_DELETE",
    help: "Register delete_file (files, links and empty directories). Off by default; ignored with --read-only.",
    schema: z.boolean().default(false),
  }),
};

export interface FilesystemConfig {
  directories: string[];
  readOnly: boolean;
  deny: string[];
  maxReadBytes: number;
  allowDelete: boolean;
}

#!/usr/bin/env node
import { runServer } from "@portside/shared";
import { runCommand, SUBCOMMANDS } from "./commands.js";
import { memoryServer } from "./server.js";

const [first, ...rest] = process.argv.slice(2);
if (first !== undefined && (SUBCOMMANDS as readonly string[]).includes(first)) {
  process.exitCode = await runCommand(first as (typeof SUBCOMMANDS)[number], rest);
} else {
  await runServer(memoryServer);
}

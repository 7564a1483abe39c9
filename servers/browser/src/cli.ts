#!/usr/bin/env node
import { runServer } from "@portside/shared";
import { INSTALLABLE, type Installable, installBrowser } from "./browser/install.js";
import { browserServer } from "./server.js";

const [command, ...rest] = process.argv.slice(2);
if (command === "install-browser") {
  const kind = (rest[0] ?? "chrome") as Installable;
  if (!INSTALLABLE.includes(kind) || rest.length > 1) {
    process.stderr.write(`usage: portside-browser install-browser [${INSTALLABLE.join("|")}]\n`);
    process.exit(2);
  }
  try {
    await installBrowser(kind, (line) => process.stdout.write(`${line}\n`));
  } catch (error) {
    process.stderr.write(`install-browser failed: ${(error as Error).message}\n`);
    process.exit(1);
  }
} else {
  await runServer(browserServer);
}

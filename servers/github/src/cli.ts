#!/usr/bin/env node
import { runServer } from "@portside/shared";
import { githubServer } from "./server.js";

await runServer(githubServer);

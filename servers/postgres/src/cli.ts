#!/usr/bin/env node
import { runServer } from "@portside/shared";
import { postgresServer } from "./server.js";

await runServer(postgresServer);

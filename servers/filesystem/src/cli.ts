#!/usr/bin/env node
import { runServer } from "@portside/shared";
import { server } from "./server.js";

await runServer(server);

#!/usr/bin/env node
import { runServer } from "@portside/shared";
import { chessServer } from "./server.js";

await runServer(chessServer);

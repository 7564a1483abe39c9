import { cliBundle } from "../../build/tsdown.ts";

// The driver and the parser (with its WebAssembly file) load on first use, after the handshake.
export default cliBundle({ cli: "src/cli.ts" }, { external: ["pg", "pg-cursor", "libpg-query"] });

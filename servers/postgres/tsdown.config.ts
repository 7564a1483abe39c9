import { cliBundle } from "../../build/tsdown.ts";

// The driver and the parser (with its WebAssembly file) stay out of the bundle and load when first needed.
export default cliBundle({ cli: "src/cli.ts" }, { external: ["pg", "pg-protocol", "libpg-query"] });

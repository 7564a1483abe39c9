import { cliBundle } from "../../build/tsdown.ts";

export default cliBundle({ cli: "src/cli.ts" }, { external: ["better-sqlite3", "sqlite-vec", "openai", "pg"] });

import { cliBundle } from "../../build/tsdown.ts";

export default cliBundle({ cli: "src/cli.ts" });

import { cliBundle } from "../build/tsdown.ts";

export default cliBundle({ fixture: "fixture/cli.ts" });

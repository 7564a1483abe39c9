import { ToolError } from "@portside/shared";
import { describe, expect, it } from "vitest";
import { github } from "../src/tools/common.ts";

describe("github()", () => {
  it("returns as soon as the call is cancelled, even while the request is still waiting", async () => {
    const controller = new AbortController();
    let settle: (value: string) => void = () => undefined;
    const waiting = new Promise<string>((resolve) => {
      settle = resolve;
    });
    const call = github("reading something", controller.signal, () => waiting);
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: "cancelled" });
    settle("too late");
  });

  it("passes on a timeout given as the abort reason", async () => {
    const controller = new AbortController();
    const call = github("reading something", controller.signal, () => new Promise<string>(() => undefined));
    controller.abort(new ToolError("timeout", "The call took too long."));
    await expect(call).rejects.toMatchObject({ code: "timeout" });
  });

  it("maps GitHub failures and lets results through", async () => {
    const signal = new AbortController().signal;
    await expect(github("x", signal, async () => 42)).resolves.toBe(42);
    const notFound = Object.assign(new Error("Not Found"), {
      name: "HttpError",
      status: 404,
      response: { headers: {} },
    });
    await expect(github("reading octo/app", signal, () => Promise.reject(notFound))).rejects.toMatchObject({
      code: "not_found",
    });
  });
});

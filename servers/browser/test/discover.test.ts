import { describe, expect, it } from "vitest";
import {
  BrowserNotFoundError,
  type DiscoveryEnvironment,
  findBrowser,
  installDirectory,
} from "../src/browser/discover.ts";
import { withScheme } from "../src/tools/navigate.ts";

function environment(
  platform: NodeJS.Platform,
  present: string[],
  env: Record<string, string> = {},
  dirs: Record<string, string[]> = {},
): DiscoveryEnvironment {
  return {
    platform,
    env,
    home: "/home/ann",
    isExecutable: (path) => present.includes(path),
    listDirectory: (path) => dirs[path] ?? [],
  };
}

describe("findBrowser", () => {
  it("uses the operator's path, and refuses one that is not there", () => {
    expect(findBrowser("/opt/chrome", environment("linux", ["/opt/chrome"]))).toEqual({
      path: "/opt/chrome",
      source: "BROWSER_EXECUTABLE_PATH",
    });
    expect(() => findBrowser("/nope", environment("linux", []))).toThrow(/\/nope\) does not exist/);
  });

  it("finds Chrome before Chromium on PATH (Linux)", () => {
    const env = environment("linux", ["/usr/bin/chromium", "/usr/local/bin/google-chrome"], {
      PATH: "/usr/local/bin:/usr/bin",
    });
    expect(findBrowser(undefined, env).path).toBe("/usr/local/bin/google-chrome");
  });

  it("knows the macOS and Windows locations", () => {
    expect(
      findBrowser(undefined, environment("darwin", ["/home/ann/Applications/Chromium.app/Contents/MacOS/Chromium"]))
        .path,
    ).toBe("/home/ann/Applications/Chromium.app/Contents/MacOS/Chromium");
    const edge = "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe";
    expect(
      findBrowser(undefined, environment("win32", [edge], { "PROGRAMFILES(X86)": "C:\\Program Files (x86)" })).path,
    ).toBe(edge);
  });

  it("finds a browser fetched with install-browser, newest build first", () => {
    const root = "/home/ann/.cache/portside-browser";
    const env = environment(
      "linux",
      [`${root}/chrome/linux-131.0.1/chrome-linux64/chrome`, `${root}/chrome/linux-99.0.1/chrome-linux64/chrome`],
      {},
      { [`${root}/chrome`]: ["linux-99.0.1", "linux-131.0.1"] },
    );
    expect(findBrowser(undefined, env)).toMatchObject({ path: `${root}/chrome/linux-131.0.1/chrome-linux64/chrome` });
    expect(installDirectory({ XDG_CACHE_HOME: "/x" }, "/h")).toBe("/x/portside-browser");
  });

  it("says how to get a browser when there is none", () => {
    const attempt = () => findBrowser(undefined, environment("linux", [], { PATH: "/usr/bin" }));
    expect(attempt).toThrow(BrowserNotFoundError);
    expect(attempt).toThrow(/BROWSER_EXECUTABLE_PATH/);
    expect(attempt).toThrow(/npx -y @portside\/server-browser install-browser/);
  });
});

describe("withScheme", () => {
  it.each([
    ["example.com", "https://example.com"],
    ["example.com/docs?q=1", "https://example.com/docs?q=1"],
    ["localhost:3000/app", "http://localhost:3000/app"],
    ["127.0.0.1:8080", "http://127.0.0.1:8080"],
    ["http://example.com", "http://example.com"],
    ["file:///etc/passwd", "file:///etc/passwd"],
    ["javascript:alert(1)", "javascript:alert(1)"],
    ["view-source:https://x.com", "view-source:https://x.com"],
    ["  https://x.com  ", "https://x.com"],
  ])("%s → %s", (input, expected) => {
    expect(withScheme(input)).toBe(expected);
  });
});

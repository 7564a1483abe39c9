import { accessSync, constants, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";

export interface FoundBrowser {
  path: string;
  /** Where it came from: the setting, a known install location, PATH, or our own install folder. */
  source: string;
}

export interface DiscoveryEnvironment {
  platform: NodeJS.Platform;
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  /** Overridable for tests. */
  isExecutable?(path: string): boolean;
  listDirectory?(path: string): string[];
}

export class BrowserNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BrowserNotFoundError";
  }
}

export const INSTALL_COMMAND = "npx -y @portside/server-browser install-browser";

/** Where `install-browser` puts a browser, and where discovery looks for one. */
export function installDirectory(env: DiscoveryEnvironment["env"] = process.env, home = homedir()): string {
  return env.PORTSIDE_BROWSER_CACHE || join(env.XDG_CACHE_HOME || join(home, ".cache"), "portside-browser");
}

const LINUX_COMMANDS = [
  "google-chrome-stable",
  "google-chrome",
  "chromium",
  "chromium-browser",
  "microsoft-edge-stable",
  "microsoft-edge",
];
const LINUX_PATHS = [
  "/opt/google/chrome/chrome",
  "/usr/lib/chromium/chromium",
  "/snap/bin/chromium",
  "/opt/microsoft/msedge/msedge",
];
const MAC_APPS = [
  "Google Chrome.app/Contents/MacOS/Google Chrome",
  "Chromium.app/Contents/MacOS/Chromium",
  "Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
  "Google Chrome Beta.app/Contents/MacOS/Google Chrome Beta",
  "Google Chrome Canary.app/Contents/MacOS/Google Chrome Canary",
];
const WINDOWS_SUFFIXES = [
  "Google\\Chrome\\Application\\chrome.exe",
  "Chromium\\Application\\chrome.exe",
  "Microsoft\\Edge\\Application\\msedge.exe",
  "Google\\Chrome Beta\\Application\\chrome.exe",
];

/**
 * Finds a Chrome-family browser: the operator's setting, else a browser installed in the usual
 * places, else one fetched earlier with `install-browser`. Never downloads anything.
 */
export function findBrowser(executablePath: string | undefined, environment: DiscoveryEnvironment): FoundBrowser {
  const isExecutable = environment.isExecutable ?? defaultIsExecutable;
  if (executablePath) {
    if (!isExecutable(executablePath)) {
      throw new BrowserNotFoundError(
        `The browser set with --executable-path / BROWSER_EXECUTABLE_PATH (${executablePath}) does not exist or is not executable.`,
      );
    }
    return { path: executablePath, source: "BROWSER_EXECUTABLE_PATH" };
  }
  for (const candidate of candidates(environment)) {
    if (isExecutable(candidate.path)) return candidate;
  }
  const installed = findInstalled(environment);
  if (installed) return installed;
  throw new BrowserNotFoundError(
    [
      "No Chrome, Chromium or Edge was found.",
      "Install one (e.g. Google Chrome, or `apt-get install chromium` on Debian/Ubuntu),",
      "or point BROWSER_EXECUTABLE_PATH (--executable-path) at a Chrome-family browser,",
      `or fetch Chrome for Testing into ${installDirectory(environment.env, environment.home)} with: ${INSTALL_COMMAND}`,
    ].join(" "),
  );
}

function candidates(environment: DiscoveryEnvironment): FoundBrowser[] {
  const { platform, env, home } = environment;
  if (platform === "darwin") {
    return MAC_APPS.flatMap((app) => [
      { path: join("/Applications", app), source: "Applications" },
      { path: join(home, "Applications", app), source: "~/Applications" },
    ]);
  }
  if (platform === "win32") {
    const roots = [env.PROGRAMFILES, env["PROGRAMFILES(X86)"], env.LOCALAPPDATA].filter(
      (root): root is string => !!root,
    );
    return WINDOWS_SUFFIXES.flatMap((suffix) =>
      roots.map((root) => ({ path: `${root}\\${suffix}`, source: "Program Files" })),
    );
  }
  const pathDirs = (env.PATH ?? "").split(delimiter).filter(Boolean);
  return [
    ...LINUX_COMMANDS.flatMap((command) => pathDirs.map((dir) => ({ path: join(dir, command), source: "PATH" }))),
    ...LINUX_PATHS.map((path) => ({ path, source: "known location" })),
  ];
}

/** A browser fetched with `install-browser` (layout of @puppeteer/browsers: <browser>/<platform>-<build>/…). */
function findInstalled(environment: DiscoveryEnvironment): FoundBrowser | undefined {
  const list = environment.listDirectory ?? defaultList;
  const isExecutable = environment.isExecutable ?? defaultIsExecutable;
  const root = installDirectory(environment.env, environment.home);
  for (const browser of ["chrome", "chrome-headless-shell"]) {
    const builds = list(join(root, browser)).sort((a, b) => b.localeCompare(a, "en", { numeric: true }));
    for (const build of builds) {
      for (const relative of executableInBuild(browser, environment.platform)) {
        const path = join(root, browser, build, relative);
        if (isExecutable(path)) return { path, source: `installed in ${root}` };
      }
    }
  }
  return undefined;
}

function executableInBuild(browser: string, platform: NodeJS.Platform): string[] {
  if (browser === "chrome") {
    if (platform === "darwin") {
      return [
        "chrome-mac-arm64/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
        "chrome-mac-x64/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
      ];
    }
    if (platform === "win32") return ["chrome-win64/chrome.exe", "chrome-win32/chrome.exe"];
    return ["chrome-linux64/chrome"];
  }
  if (platform === "darwin") {
    return [
      "chrome-headless-shell-mac-arm64/chrome-headless-shell",
      "chrome-headless-shell-mac-x64/chrome-headless-shell",
    ];
  }
  if (platform === "win32") return ["chrome-headless-shell-win64/chrome-headless-shell.exe"];
  return ["chrome-headless-shell-linux64/chrome-headless-shell"];
}

function defaultIsExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    if (process.platform !== "win32") accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function defaultList(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

import { installDirectory } from "./discover.js";

export const INSTALLABLE = ["chrome", "chrome-headless-shell"] as const;
export type Installable = (typeof INSTALLABLE)[number];

/**
 * `install-browser`: the one place the server downloads anything, and only when an operator runs
 * it by hand. Fetches the current stable Chrome for Testing into the folder discovery searches.
 */
export async function installBrowser(kind: Installable, write: (line: string) => void): Promise<string> {
  const { Browser, detectBrowserPlatform, install, resolveBuildId } = await import("@puppeteer/browsers");
  const platform = detectBrowserPlatform();
  if (!platform) throw new Error(`Chrome for Testing has no build for ${process.platform}/${process.arch}.`);
  const browser = kind === "chrome" ? Browser.CHROME : Browser.CHROMEHEADLESSSHELL;
  const buildId = await resolveBuildId(browser, platform, "stable");
  const cacheDir = installDirectory();
  write(`Downloading ${kind} ${buildId} (${platform}) into ${cacheDir} …`);
  const installed = await install({ cacheDir, browser, buildId, platform, downloadProgressCallback: "default" });
  write(`Installed: ${installed.executablePath}`);
  write("The server finds it there on its own; or set BROWSER_EXECUTABLE_PATH to that path.");
  return installed.executablePath;
}

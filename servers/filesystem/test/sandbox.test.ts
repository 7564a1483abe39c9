import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DenyList } from "../src/sandbox/deny.js";
import { FsError, type SandboxRule } from "../src/sandbox/errors.js";
import {
  ensureDirectory,
  moveEntry,
  openDescendantFile,
  openDescendantSync,
  openDirectory,
  openFileForReading,
  pinsThroughProc,
  writeAtomic,
} from "../src/sandbox/pinned.js";
import { checkGlob, checkPathText, isWithin } from "../src/sandbox/policy.js";
import { intersectRoots, outermost, rootUriToPath } from "../src/sandbox/roots.js";
import { Sandbox } from "../src/sandbox/sandbox.js";
import { walk } from "../src/sandbox/walk.js";
import { type Layout, makeLayout, snapshot } from "./helpers.js";

async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<FsError> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    if (error instanceof FsError) return error;
    throw error;
  }
  throw new Error("expected a refusal, got success");
}

async function expectDenied(promise: Promise<unknown> | (() => unknown), rule: SandboxRule): Promise<void> {
  const error = await refusal(promise);
  expect(error.code).toBe("permission_denied");
  expect(error.rule).toBe(rule);
}

describe("path text policy", () => {
  const cases: Array<[string, string, SandboxRule]> = [
    ["NUL byte", "file.txt\0.png", "nul_byte"],
    ["newline", "file\n.txt", "control_character"],
    ["escape sequence", "\u001b[2Jfile", "control_character"],
    ["C1 control", "file\u0085.txt", "control_character"],
    ["right-to-left override", "evil\u202etxt.exe", "invisible_character"],
    ["zero-width space", "fi\u200ble.txt", "invisible_character"],
    ["byte-order mark", "\ufefffile.txt", "invisible_character"],
    ["tag character", "file\u{e0041}.txt", "invisible_character"],
    ["lone high surrogate", "file\ud800.txt", "invalid_unicode"],
    ["lone low surrogate", "\udc00file.txt", "invalid_unicode"],
    ["backslash traversal", "..\\..\\outside\\secret.txt", "backslash"],
    ["backslash separator", "sub\\inner.txt", "backslash"],
    ["Windows drive", "C:/Windows/win.ini", "windows_path"],
    ["Windows drive, bare", "c:", "windows_path"],
    ["fullwidth dots", "\uff0e\uff0e/outside/secret.txt", "unicode_lookalike"],
    ["one-dot leader pair", "\u2024\u2024/outside", "unicode_lookalike"],
    ["two-dot leader", "\u2025/outside", "unicode_lookalike"],
    ["fullwidth solidus", "..\uff0foutside", "unicode_lookalike"],
    ["division slash", "..\u2215outside", "unicode_lookalike"],
    ["fraction slash", "sub\u2044inner.txt", "unicode_lookalike"],
    ["fullwidth reverse solidus", "..\uff3coutside", "unicode_lookalike"],
  ];
  it.each(cases)("refuses a path with a %s", async (_what, path, rule) => {
    await expectDenied(() => checkPathText(path, "path"), rule);
  });

  it("accepts ordinary Unicode names", () => {
    for (const name of [
      "naïve.txt",
      "日本語/ファイル.md",
      "emoji-📁.txt",
      "Ελληνικά",
      "a b c.txt",
      "...hidden",
      "x..y",
    ]) {
      expect(() => checkPathText(name, "path")).not.toThrow();
    }
  });

  it("refuses an empty or overlong path as invalid, not as a sandbox rule", async () => {
    expect((await refusal(() => checkPathText("", "path"))).code).toBe("invalid_argument");
    expect((await refusal(() => checkPathText("a/".repeat(3000), "path"))).code).toBe("invalid_argument");
  });

  it("treats prefix look-alikes as different directories", () => {
    expect(isWithin("/data/app", "/data/app")).toBe(true);
    expect(isWithin("/data/app/x", "/data/app")).toBe(true);
    expect(isWithin("/data/app-evil", "/data/app")).toBe(false);
    expect(isWithin("/data/appx/y", "/data/app")).toBe(false);
    expect(isWithin("/data", "/data/app")).toBe(false);
    expect(isWithin("/anything", "/")).toBe(true);
  });

  it.each([
    ["../**", "glob_escape"],
    ["**/../../etc/*", "glob_escape"],
    ["{..,src}/*", "glob_escape"],
    ["/etc/*", "glob_escape"],
    ["{/etc,src}/*", "glob_escape"],
    ["~/.ssh/*", "glob_escape"],
    ["*.ts\0", "nul_byte"],
  ] as Array<[string, SandboxRule]>)("refuses the climbing glob %j", async (glob, rule) => {
    await expectDenied(() => checkGlob(glob, "pattern"), rule);
  });

  it("accepts globs that stay below the directory", () => {
    for (const glob of ["**/*.ts", "*.{ts,tsx}", "src/**/..foo", "a..b/*", "**/.env"]) {
      expect(() => checkGlob(glob, "pattern")).not.toThrow();
    }
  });
});

describe("roots", () => {
  it("intersects client roots with operator directories, never widening", () => {
    expect(intersectRoots(["/data"], ["/data/app"])).toEqual(["/data/app"]);
    expect(intersectRoots(["/data/app"], ["/data"])).toEqual(["/data/app"]);
    expect(intersectRoots(["/data/app"], ["/data/app-evil"])).toEqual([]);
    expect(intersectRoots(["/data/app"], ["/"])).toEqual(["/data/app"]);
    expect(intersectRoots(["/a", "/b"], ["/b/x", "/c"])).toEqual(["/b/x"]);
    expect(intersectRoots(["/a"], [])).toEqual([]);
  });

  it("keeps only outermost directories", () => {
    expect(outermost(["/a/b", "/a", "/a", "/c"])).toEqual(["/a", "/c"]);
  });

  it("reads file:// roots only", () => {
    expect(rootUriToPath("file:///home/me/project")).toBe("/home/me/project");
    expect(rootUriToPath("file:///home/me/my%20project")).toBe("/home/me/my project");
    expect(rootUriToPath("https://example.com/")).toBeUndefined();
    expect(rootUriToPath("file:///a/%2f/b")).toBeUndefined();
  });
});

describe("deny list", () => {
  const deny = new DenyList([".env", "secrets/**", "**/*.pem", "/abs/blocked"]);
  it("matches names anywhere, relative globs, and absolute paths, including everything below", () => {
    expect(deny.denies("/r/.env", "/r")).toBe(true);
    expect(deny.denies("/r/a/b/.env", "/r")).toBe(true);
    expect(deny.denies("/r/.env/inside", "/r")).toBe(true);
    expect(deny.denies("/r/secrets", "/r")).toBe(true);
    expect(deny.denies("/r/secrets/x/y", "/r")).toBe(true);
    expect(deny.denies("/r/a/secrets/x", "/r")).toBe(false);
    expect(deny.denies("/r/k/key.pem", "/r")).toBe(true);
    expect(deny.denies("/abs/blocked/file", "/abs")).toBe(true);
    expect(deny.denies("/r/.envrc", "/r")).toBe(false);
    expect(deny.denies("/r/file.txt", "/r")).toBe(false);
  });
});

describe("sandbox.resolve", () => {
  let layout: Layout;
  let sandbox: Sandbox;
  let outsideBefore: Record<string, string>;

  beforeEach(async () => {
    layout = makeLayout();
    ({ sandbox } = await Sandbox.fromDirectories([layout.allowed], new DenyList([".env"])));
    outsideBefore = snapshot(layout.outside);
  });
  afterEach(() => {
    // Whatever happened, nothing outside the sandbox changed.
    expect(snapshot(layout.outside)).toEqual(outsideBefore);
    layout.cleanup();
  });

  const resolve = (path: string, followFinal = true) => sandbox.resolve(path, { argument: "path", followFinal });

  it("resolves relative, absolute, dotted and file:// paths inside", async () => {
    const inside = join(layout.allowed, "file.txt");
    for (const path of [
      "file.txt",
      "./file.txt",
      inside,
      `${layout.allowed}//file.txt`,
      "sub/../file.txt",
      `${layout.allowed}/sub/../file.txt`,
      pathToFileURL(inside).href,
    ]) {
      const resolved = await resolve(path);
      expect(resolved.real).toBe(inside);
      expect(resolved.exists).toBe(true);
    }
    expect((await resolve(".")).real).toBe(layout.allowed);
    expect((await resolve(layout.allowed)).rel).toBe("");
  });

  it("follows links that stay inside, including chains", async () => {
    expect((await resolve("link-in")).real).toBe(join(layout.allowed, "file.txt"));
    expect((await resolve("chain-in-1")).real).toBe(join(layout.allowed, "file.txt"));
  });

  it("reports a missing tail for files about to be created", async () => {
    const resolved = await resolve("new/deeper/file.txt");
    expect(resolved.exists).toBe(false);
    expect(resolved.existing).toBe(layout.allowed);
    expect(resolved.missing).toEqual(["new", "deeper", "file.txt"]);
  });

  it("follows a dangling link that points inside to where the file would be", async () => {
    const resolved = await resolve("dangling-in");
    expect(resolved.real).toBe(join(layout.allowed, "missing.txt"));
    expect(resolved.exists).toBe(false);
  });

  const escapes: Array<[string, (l: Layout) => string, SandboxRule]> = [
    ["relative .. traversal", () => "../outside/secret.txt", "outside_allowed_directories"],
    ["deep .. traversal", () => "sub/../../outside/secret.txt", "outside_allowed_directories"],
    ["many .. segments", () => "../../../../../../../../etc/passwd", "outside_allowed_directories"],
    ["absolute path outside", (l) => join(l.outside, "secret.txt"), "outside_allowed_directories"],
    ["absolute path with ..", (l) => `${l.allowed}/../outside/secret.txt`, "outside_allowed_directories"],
    ["prefix look-alike directory", (l) => join(l.evil, "secret.txt"), "outside_allowed_directories"],
    ["prefix look-alike itself", (l) => l.evil, "outside_allowed_directories"],
    ["the parent directory", (l) => l.base, "outside_allowed_directories"],
    ["the filesystem root", () => "/", "outside_allowed_directories"],
    ["/etc/passwd", () => "/etc/passwd", "outside_allowed_directories"],
    ["file:// URL outside", (l) => pathToFileURL(join(l.outside, "secret.txt")).href, "outside_allowed_directories"],
    [
      "file:// URL with encoded ..",
      (l) => `file://${l.allowed}/%2e%2e/outside/secret.txt`,
      "outside_allowed_directories",
    ],
    ["~ (home)", () => "~", "outside_allowed_directories"],
    ["~/ (home)", () => "~/.ssh/id_rsa", "outside_allowed_directories"],
    ["link to a file outside", () => "link-out", "symlink_escape"],
    ["link to a directory outside", () => "dirlink-out/secret.txt", "symlink_escape"],
    ["link to a directory outside, nested", () => "dirlink-out/nested/deep.txt", "symlink_escape"],
    ["the outside link's directory itself", () => "dirlink-out", "symlink_escape"],
    ["symlinked parent", () => "sub/parent-out/secret.txt", "symlink_escape"],
    ["symlinked parent, missing file", () => "sub/parent-out/new-file.txt", "symlink_escape"],
    ["link chain ending outside", () => "chain-1", "symlink_escape"],
    ["dangling link pointing outside", () => "dangling-out", "symlink_escape"],
    ["below a dangling link pointing outside", () => "dangling-out/x", "symlink_escape"],
    ["denied name", () => ".env", "denied_by_pattern"],
    ["link to a denied name", () => "link-env", "denied_by_pattern"],
    ["NUL byte", () => "file.txt\0../../outside", "nul_byte"],
    ["backslashes", () => "..\\outside\\secret.txt", "backslash"],
    ["fullwidth dots", () => "\uff0e\uff0e/outside/secret.txt", "unicode_lookalike"],
  ];
  /** Links inside that may be named themselves (to move or delete them), though going through them is refused. */
  const linksInside = ["link-out", "dirlink-out", "chain-1", "dangling-out"];

  it.each(escapes)("refuses %s", async (_what, path, rule) => {
    await expectDenied(resolve(path(layout)), rule);
    if (!linksInside.includes(path(layout)) && path(layout) !== "link-env") {
      await expectDenied(resolve(path(layout), false), rule);
    }
  });

  it("lets a link inside be named itself (to move or delete it), whatever it points to", async () => {
    for (const name of linksInside) {
      const resolved = await resolve(name, false);
      expect(resolved.real).toBe(join(layout.allowed, name));
    }
  });

  it("refuses to name an allowed directory itself as an entry to move or delete", async () => {
    await expectDenied(resolve(layout.allowed, false), "allowed_directory_itself");
    await expectDenied(resolve(".", false), "allowed_directory_itself");
    await expectDenied(resolve("sub/..", false), "allowed_directory_itself");
  });

  it("fails on link loops without hanging", async () => {
    await expect(resolve("loop-1")).rejects.toMatchObject({ code: "ELOOP" });
    await expect(resolve("loop-1/x")).rejects.toMatchObject({ code: "ELOOP" });
  });

  it("resolves paths given through a symlinked allowed directory", async () => {
    const alias = join(layout.base, "alias");
    symlinkSync("allowed", alias);
    const { sandbox: aliased } = await Sandbox.fromDirectories([alias], new DenyList([]));
    expect(aliased.directories).toEqual([layout.allowed]);
    expect((await aliased.resolve(join(alias, "file.txt"), { argument: "path" })).real).toBe(
      join(layout.allowed, "file.txt"),
    );
    await expectDenied(
      aliased.resolve(join(alias, "..", "outside"), { argument: "path" }),
      "outside_allowed_directories",
    );
  });

  it("skips directories that do not exist and reports them", async () => {
    const { sandbox: partial, skipped } = await Sandbox.fromDirectories(
      [layout.allowed, join(layout.base, "nope"), join(layout.allowed, "file.txt")],
      new DenyList([]),
    );
    expect(partial.directories).toEqual([layout.allowed]);
    expect(skipped.map((s) => s.reason)).toEqual(["does not exist", "is not a directory"]);
  });

  it("narrows to the client's roots and never widens", async () => {
    const sub = join(layout.allowed, "sub");
    const narrowed = await sandbox.narrow([sub]);
    expect(narrowed.directories).toEqual([sub]);
    expect((await narrowed.resolve("inner.txt", { argument: "path" })).real).toBe(join(sub, "inner.txt"));
    await expectDenied(
      narrowed.resolve(join(layout.allowed, "file.txt"), { argument: "path" }),
      "outside_allowed_directories",
    );

    const wider = await sandbox.narrow([layout.base, "/"]);
    expect(wider.directories).toEqual([layout.allowed]);

    const disjoint = await sandbox.narrow([layout.outside]);
    expect(disjoint.directories).toEqual([]);
    await expectDenied(disjoint.resolve("file.txt", { argument: "path" }), "no_allowed_directories");

    const viaLink = await sandbox.narrow([join(layout.allowed, "dirlink-out")]);
    expect(viaLink.directories).toEqual([]);
  });

  it("expands ~ to the home directory, which is allowed only when inside", async () => {
    const { sandbox: home } = await Sandbox.fromDirectories([layout.allowed], new DenyList([]), {
      home: layout.allowed,
    });
    expect((await home.resolve("~/file.txt", { argument: "path" })).real).toBe(join(layout.allowed, "file.txt"));
    expect(homedir()).not.toBe(layout.allowed);
  });

  it("finds a name written in another Unicode normalisation", async () => {
    const nfd = "cafe\u0301.txt";
    writeFileSync(join(layout.allowed, "sub", nfd), "decomposed");
    const resolved = await resolve("sub/caf\u00e9.txt");
    expect(resolved.real).toBe(join(layout.allowed, "sub", nfd));
    expect(resolved.exists).toBe(true);
    writeFileSync(join(layout.allowed, "sub", "caf\u00e9.txt"), "composed");
    expect((await resolve("sub/caf\u00e9.txt")).real).toBe(join(layout.allowed, "sub", "caf\u00e9.txt"));
  });

  it("takes relative paths from the first directory that has them", async () => {
    const second = join(layout.base, "second");
    mkdirSync(second);
    writeFileSync(join(second, "only-here.txt"), "x");
    const { sandbox: two } = await Sandbox.fromDirectories([layout.allowed, second], new DenyList([]));
    expect((await two.resolve("only-here.txt", { argument: "path" })).real).toBe(join(second, "only-here.txt"));
    expect((await two.resolve("file.txt", { argument: "path" })).real).toBe(join(layout.allowed, "file.txt"));
    expect((await two.resolve("brand-new.txt", { argument: "path" })).real).toBe(join(layout.allowed, "brand-new.txt"));
  });
});

describe("pinned operations against a link swapped in after the check", () => {
  let layout: Layout;
  let sandbox: Sandbox;
  let outsideBefore: Record<string, string>;

  beforeEach(async () => {
    layout = makeLayout();
    ({ sandbox } = await Sandbox.fromDirectories([layout.allowed], new DenyList([".env"])));
    outsideBefore = snapshot(layout.outside);
  });
  afterEach(() => {
    expect(snapshot(layout.outside)).toEqual(outsideBefore);
    layout.cleanup();
  });

  /** Replaces allowed/sub with a link to outside/sub (which has an inner.txt of its own). */
  function swapSubForOutsideLink(): void {
    renameSync(join(layout.allowed, "sub"), join(layout.allowed, "sub-moved"));
    symlinkSync(join(layout.outside, "sub"), join(layout.allowed, "sub"));
  }

  it("uses /proc/self/fd on this machine", () => {
    expect(pinsThroughProc()).toBe(process.platform === "linux");
  });

  it("refuses to read a file whose parent became a link to outside", async () => {
    const resolved = await sandbox.resolve("sub/inner.txt", { argument: "path" });
    swapSubForOutsideLink();
    await expectDenied(openFileForReading(resolved.real, sandbox, "path"), "symlink_race");
  });

  it("refuses to read a file that became a link to outside", async () => {
    const resolved = await sandbox.resolve("file.txt", { argument: "path" });
    rmSync(join(layout.allowed, "file.txt"));
    symlinkSync(join(layout.outside, "secret.txt"), join(layout.allowed, "file.txt"));
    await expectDenied(openFileForReading(resolved.real, sandbox, "path"), "symlink_race");
  });

  it("refuses to open a directory that became a link to outside", async () => {
    const resolved = await sandbox.resolve("sub", { argument: "path" });
    swapSubForOutsideLink();
    await expectDenied(openDirectory(resolved.real, sandbox, "path"), "symlink_race");
  });

  it("refuses to create directories below a parent that became a link", async () => {
    const resolved = await sandbox.resolve("sub/a/b", { argument: "path" });
    swapSubForOutsideLink();
    await expectDenied(ensureDirectory(resolved.existing, resolved.missing, sandbox, "path"), "symlink_race");
    expect(existsSync(join(layout.outside, "sub", "a"))).toBe(false);
  });

  it("writes into the directory it opened even if its path is swapped for a link afterwards", async () => {
    const resolved = await sandbox.resolve("sub/new.txt", { argument: "path" });
    const dir = await openDirectory(join(layout.allowed, "sub"), sandbox, "path");
    try {
      swapSubForOutsideLink();
      await writeAtomic(dir, "new.txt", async (h) => void (await h.writeFile("written")), {
        replace: true,
        argument: "path",
      });
    } finally {
      dir.close();
    }
    expect(resolved.real).toBe(join(layout.allowed, "sub", "new.txt"));
    expect(readFileSync(join(layout.allowed, "sub-moved", "new.txt"), "utf8")).toBe("written");
  });

  it("moves between the directories it opened, not where their paths lead later", async () => {
    const from = await openDirectory(layout.allowed, sandbox, "source");
    const to = await openDirectory(join(layout.allowed, "sub"), sandbox, "destination");
    try {
      swapSubForOutsideLink();
      await moveEntry(from, "file.txt", to, "moved.txt", { overwrite: false, argument: "destination" });
    } finally {
      from.close();
      to.close();
    }
    expect(readFileSync(join(layout.allowed, "sub-moved", "moved.txt"), "utf8")).toBe("inside\n");
  });

  it("does not walk into a directory swapped for a link", async () => {
    mkdirSync(join(layout.allowed, "sub", "nested"));
    const start = await openDirectory(layout.allowed, sandbox, "path");
    try {
      swapSubForOutsideLink();
      expect(() => openDescendantSync(start, "sub")).toThrow(/ENOTDIR|ELOOP/);
      expect(openDescendantSync(start, "sub/nested")).toBeUndefined();
      expect(await openDescendantFile(start, "sub/inner.txt")).toBeUndefined();
      const seen: string[] = [];
      await walk(start, {
        visit(entry) {
          seen.push(entry.rel);
          return undefined;
        },
      });
      expect(seen).not.toContain("sub/inner.txt");
      expect(seen).toContain("sub-moved/inner.txt");
    } finally {
      start.close();
    }
  });

  it("leaves no temporary file behind when a write fails", async () => {
    const dir = await openDirectory(layout.allowed, sandbox, "path");
    try {
      await expect(
        writeAtomic(
          dir,
          "file.txt",
          async () => {
            throw new Error("disk on fire");
          },
          { replace: true, argument: "path" },
        ),
      ).rejects.toThrow("disk on fire");
    } finally {
      dir.close();
    }
    expect(readdirSync(layout.allowed).filter((n) => n.includes("portside-tmp"))).toEqual([]);
    expect(readFileSync(join(layout.allowed, "file.txt"), "utf8")).toBe("inside\n");
  });

  it("refuses to replace an existing file when replacing is not allowed", async () => {
    const dir = await openDirectory(layout.allowed, sandbox, "path");
    try {
      const error = await refusal(
        writeAtomic(dir, "file.txt", async (h) => void (await h.writeFile("new")), {
          replace: false,
          argument: "destination",
        }),
      );
      expect(error.code).toBe("conflict");
    } finally {
      dir.close();
    }
    expect(readFileSync(join(layout.allowed, "file.txt"), "utf8")).toBe("inside\n");
  });
});

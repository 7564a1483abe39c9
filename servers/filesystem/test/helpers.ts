import { createHash } from "node:crypto";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A scratch layout with an allowed directory and everything a hostile caller would aim at around it:
 *
 *   base/allowed/            the sandbox
 *     file.txt, sub/inner.txt, .env
 *     link-in -> file.txt, link-env -> .env, chain-in-1 -> chain-in-2 -> file.txt
 *     link-out -> ../outside/secret.txt, dirlink-out -> ../outside
 *     chain-1 -> chain-2 -> ../outside/secret.txt (a chain that ends outside)
 *     dangling-out -> ../outside/new.txt, dangling-in -> missing.txt
 *     loop-1 -> loop-2 -> loop-1
 *     sub/parent-out -> ../../outside (a symlinked parent)
 *   base/allowed-evil/secret.txt  (a prefix look-alike)
 *   base/outside/secret.txt, outside/nested/deep.txt, outside/sub/inner.txt, outside/sub/nested/
 */
export interface Layout {
  base: string;
  allowed: string;
  evil: string;
  outside: string;
  cleanup(): void;
}

export function makeLayout(): Layout {
  const base = realpathSync(mkdtempSync(join(tmpdir(), "portside-fs-")));
  const allowed = join(base, "allowed");
  const evil = join(base, "allowed-evil");
  const outside = join(base, "outside");
  mkdirSync(join(allowed, "sub"), { recursive: true });
  mkdirSync(evil);
  mkdirSync(join(outside, "nested"), { recursive: true });
  mkdirSync(join(outside, "sub", "nested"), { recursive: true });
  writeFileSync(join(allowed, "file.txt"), "inside\n");
  writeFileSync(join(allowed, "sub", "inner.txt"), "inner\n");
  writeFileSync(join(allowed, ".env"), "TOKEN=inside-secret\n");
  writeFileSync(join(evil, "secret.txt"), "evil twin\n");
  writeFileSync(join(outside, "secret.txt"), "outside secret\n");
  writeFileSync(join(outside, "nested", "deep.txt"), "deep secret\n");
  writeFileSync(join(outside, "sub", "inner.txt"), "outside inner\n");
  symlinkSync("file.txt", join(allowed, "link-in"));
  symlinkSync(".env", join(allowed, "link-env"));
  symlinkSync("chain-in-2", join(allowed, "chain-in-1"));
  symlinkSync("file.txt", join(allowed, "chain-in-2"));
  symlinkSync("../outside/secret.txt", join(allowed, "link-out"));
  symlinkSync("../outside", join(allowed, "dirlink-out"));
  symlinkSync("chain-2", join(allowed, "chain-1"));
  symlinkSync("../outside/secret.txt", join(allowed, "chain-2"));
  symlinkSync("../outside/new.txt", join(allowed, "dangling-out"));
  symlinkSync("missing.txt", join(allowed, "dangling-in"));
  symlinkSync("loop-2", join(allowed, "loop-1"));
  symlinkSync("loop-1", join(allowed, "loop-2"));
  symlinkSync("../../outside", join(allowed, "sub", "parent-out"));
  return { base, allowed, evil, outside, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

/**
 * Everything about a directory tree that an escape could change: every entry's kind, mode, size,
 * modification time, content hash and link target. Compared before and after an attack.
 */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (path: string, rel: string) => {
    const info = lstatSync(path);
    let what: string;
    if (info.isSymbolicLink()) what = `link ${readlinkSync(path)}`;
    else if (info.isDirectory()) what = "dir";
    else what = `file ${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
    out[rel || "."] = `${what} mode=${info.mode} size=${info.size} mtime=${info.mtimeMs}`;
    if (info.isDirectory())
      for (const name of readdirSync(path)) visit(join(path, name), rel ? `${rel}/${name}` : name);
  };
  visit(dir, "");
  return out;
}

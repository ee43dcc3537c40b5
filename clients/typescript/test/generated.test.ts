/** The committed generated files are what `npm run generate` produces from ../../proto today. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

const root = path.resolve(__dirname, "..", "..");

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

test("src/gen and proto/ are up to date with ../../proto (run `npm run generate`)", { timeout: 60_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "peerscope-gen-"));
  try {
    execFileSync("sh", [path.join(root, "generate.sh")], { env: { ...process.env, OUT: tmp }, stdio: "pipe" });
    for (const sub of ["proto", path.join("src", "gen")]) {
      const want = files(path.join(tmp, sub));
      const have = files(path.join(root, sub));
      assert.ok(want.size > 0, `generate.sh wrote nothing under ${sub}`);
      assert.deepEqual([...have.keys()].sort(), [...want.keys()].sort(), `files under ${sub}`);
      for (const [name, text] of want) assert.equal(have.get(name), text, `${sub}/${name} is stale`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

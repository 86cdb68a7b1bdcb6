// Writes the corpus of Next.js env-loading cases that ocd-cron's reader is
// tested against (tests/fixtures/next-env/corpus.json). The expected values
// come from Next's own loader: `loadEnvConfig(dir, false)` of @next/env, the
// call `next start` makes, run on each case's files and environment.
//
// Run by scripts/next-env-corpus, which installs the pinned @next/env and
// passes its directory: node next-env-corpus.js NODE_MODULES OUT.json
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");

const [modules, out] = process.argv[2] === "--one" ? [process.argv[3]] : process.argv.slice(2);
const pkg = path.join(modules, "@next", "env");
const version = JSON.parse(fs.readFileSync(path.join(pkg, "package.json"), "utf8")).version;

// Hand-written cases: one or more per class of layout, syntax and quirk.
// `files` maps a file name in the app's directory to its text (or, for
// `files_bytes`, to its bytes, one character each); a name ending in "/" is
// made a directory.
const K = "INTERNAL_API_KEY";
const cases = [
  // Which files, in which order.
  { name: "key in .env", files: { ".env": `${K}=k3y-from-dotenv\n` } },
  { name: "key in .env.local only", files: { ".env.local": `${K}=k3y-local\n` } },
  { name: ".env.local beats a stale .env", files: { ".env.local": `${K}=k3y-new\n`, ".env": `${K}=k3y-stale\n` } },
  { name: ".env.production.local beats all", files: { ".env.production.local": `${K}=k3y-pl\n`, ".env.local": `${K}=k3y-l\n`, ".env.production": `${K}=k3y-p\n`, ".env": `${K}=k3y-e\n` } },
  { name: ".env.production beats .env", files: { ".env.production": `${K}=k3y-p\n`, ".env": `${K}=k3y-e\nAPI_BASE_URL=http://e:1\n` } },
  { name: "NODE_ENV=test reads the test files and not .env.local", env: { NODE_ENV: "test" }, files: { ".env.local": `${K}=k3y-l\n`, ".env.test": `${K}=k3y-t\n`, ".env": `${K}=k3y-e\n` } },
  { name: "NODE_ENV=test: .env.test.local", env: { NODE_ENV: "test" }, files: { ".env.test.local": `${K}=k3y-tl\n`, ".env.test": `${K}=k3y-t\n`, ".env.production": `${K}=k3y-p\n` } },
  { name: "NODE_ENV=test falls back to .env", env: { NODE_ENV: "test" }, files: { ".env.local": `${K}=k3y-l\n`, ".env.production": `${K}=k3y-p\n`, ".env": `${K}=k3y-e\n` } },
  { name: "NODE_ENV=development still reads the production files under next start", env: { NODE_ENV: "development" }, files: { ".env.development": `${K}=k3y-d\n`, ".env.production": `${K}=k3y-p\n` } },
  { name: "the environment beats every file", env: { [K]: "k3y-env" }, files: { ".env.local": `${K}=k3y-l\n`, ".env": `${K}=k3y-e\n` } },
  { name: "a directory called .env.local is skipped", files: { ".env.local/": "", ".env": `${K}=k3y-e\n` } },
  { name: "no files at all", files: {} },
  { name: "an empty variable in the environment hides the files", env: { [K]: "" }, files: { ".env": `${K}=k3y-e\n` } },
  // Expansion.
  { name: "a generated key with a $ loses its tail", files: { ".env": `${K}=k3y$Zq9xLw2\n` } },
  { name: "a $ at the end is kept", files: { ".env": `${K}=k3y$\n` } },
  { name: "a $ before a non-name is kept", files: { ".env": `${K}=k3y$-x$!y\n` } },
  { name: "an escaped dollar", files: { ".env": `${K}=k3y\\$Zq9\n` } },
  { name: "an escaped dollar in double quotes", files: { ".env": `${K}="k3y\\$Zq9"\n` } },
  { name: "single quotes expand too", files: { ".env": `A=1\n${K}='k3y$A'\n` } },
  { name: "backticks expand too", files: { ".env": `A=1\n${K}=\`k3y\${A}\`\n` } },
  { name: "a reference to a later line", files: { ".env": `${K}=\${OCD_KEY}\nOCD_KEY=k3y-ocd\n` } },
  { name: "a reference to an earlier line", files: { ".env": `OCD_KEY=k3y-ocd\n${K}=$OCD_KEY\n` } },
  { name: "prefix and suffix from another line", files: { ".env": `SUFFIX=tail\n${K}=pre$SUFFIX\n` } },
  { name: "a suffix from another file that is read later", files: { ".env.local": `${K}=pre$SUFFIX\n`, ".env": `SUFFIX=tail\n` } },
  { name: "a suffix from another file that is read earlier", files: { ".env.local": `SUFFIX=tail\n`, ".env": `${K}=pre$SUFFIX\n` } },
  { name: "a reference to the environment", env: { OCD_SECRET: "k3y-secret" }, files: { ".env": `${K}=\${OCD_SECRET}\n` } },
  { name: "the environment beats a line of the same file in a reference", env: { A: "env" }, files: { ".env": `A=file\n${K}=k3y-$A\n` } },
  { name: "default when unset", files: { ".env": `${K}=\${UNSET:-k3y-default}\n` } },
  { name: "default when set", env: { SET: "k3y-set" }, files: { ".env": `${K}=\${SET:-k3y-default}\n` } },
  { name: "default when set but empty", env: { EMPTY: "" }, files: { ".env": `${K}=\${EMPTY:-k3y-default}\n` } },
  { name: "a default beats a line of the same file", files: { ".env": `A=file\n${K}=k3y-\${A:-dflt}\n` } },
  { name: "an empty default", files: { ".env": `A=file\n${K}=k3y-\${A:-}\n` } },
  { name: "a default holding a reference", env: { B: "bee" }, files: { ".env": `${K}=k3y-\${UNSET:-$B}\n` } },
  { name: "no colon before the dash", files: { ".env": `${K}=k3y-\${UNSET-x}\n` } },
  { name: "an unclosed brace", env: { A: "aa" }, files: { ".env": `${K}=k3y-\${A\n` } },
  { name: "a brace after a plain reference is eaten", env: { A: "aa" }, files: { ".env": `${K}=k3y-$A}b\n` } },
  { name: "a default without braces", files: { ".env": `${K}=k3y-$U:-d\n` } },
  { name: "the environment's value is expanded when a file sets the name", env: { [K]: "k3y$x", x: "-ex" }, files: { ".env": `${K}=other\n` } },
  { name: "the environment's value is kept when no file sets the name", env: { [K]: "k3y$x" }, files: { ".env": `A=1\n` } },
  { name: "the environment's value is expanded once per file that sets the name", env: { [K]: "k3y\\\\$$A", A: "B", B: "bee" }, files: { ".env.local": `${K}=1\n`, ".env": `${K}=2\n` } },
  { name: "an escaped dollar read twice", files: { ".env.local": `${K}=k3y\\$B\n`, ".env": `${K}=old\nB=bee\n`, ".env.production": `C=$${K}\n` } },
  { name: "a value with $$ and $& inserted by a reference", files: { ".env": `B=x$&y$$z\n${K}=k3y-$B\n` } },
  { name: "a replacement with $\` and $'", files: { ".env": "B=[$`|$']\n" + `${K}=k3y-$B-end\n` } },
  { name: "the first occurrence is replaced", files: { ".env": `A=1\n${K}=k3y\\$A$A\n` } },
  { name: "a reference to itself", files: { ".env": `${K}=k3y$${K}\n` } },
  { name: "a loop between two lines", files: { ".env": `A=$B\nB=$A\n${K}=k3y\n` } },
  { name: "a loop in another file", files: { ".env.local": `${K}=k3y-l\n`, ".env": `A=$A\n` } },
  { name: "a reference to a prototype property", files: { ".env": `${K}=k3y-$toString\n` } },
  { name: "a name that is a prototype property", files: { ".env": `__proto__=x\nconstructor=k3y\n${K}=$constructor\n` } },
  { name: "integer names come first", files: { ".env": `${K}=k3y-$10\n10=$2\n2=two\n` } },
  { name: "a line break in the expanded key", env: { NL: "a\nb" }, files: { ".env": `${K}=k3y$NL\n` } },
  { name: "a space in the key", files: { ".env": `${K}="k3y with space"\n` } },
  { name: "a non-ASCII key", files: { ".env": `${K}=k3y-clé\n` } },
  { name: "a key that expands to nothing", files: { ".env": `${K}=$NOTHING\n` } },
  // White space Node's trim() removes and dotenv's line breaks, beyond ASCII.
  { name: "no-break and ideographic spaces around the key", files: { ".env": `${K}=\u00a0k3y-nbsp\u3000\n` } },
  { name: "vertical tab, form feed, ogham and en quad around the key", files: { ".env": `${K}=\v\u1680k3y-ws\u2000\f\n` } },
  { name: "a paragraph separator ends a value", files: { ".env": `${K}=k3y-para\u2029B=b\n` } },
  { name: "a byte-order mark inside the file", files: { ".env": `A=1\n\ufeff${K}=k3y-bom\n` } },
  { name: "names with dots, dashes, accents, spaces, none, and integer-like names", files: { ".env": `x.y-z=1\nclé=2\nTWO WORDS=3\n=v\n01=zero-one\n4294967295=max\n4294967294=below\n${K}=k3y-$01-$4294967295-$4294967294\n` } },
  { name: "an escaped backslash before n in double quotes", files: { ".env": `${K}="k3y\\\\nb"\n` } },
  { name: "escaped single quotes inside single quotes", files: { ".env": `${K}='k3y\\'a\\'b'\n` } },
  // The classes of dotenv-expand's own test file, in lines of our own.
  { name: "nested defaults, defaults with colons and slashes, dotted names, a lone $", env: { HOSTNAME_ENV: "h-env" }, files: { ".env": [
    "BASE=base", "NESTED_SET=${BASE:-${NOPE:-d}}", "NESTED_UNSET=${NOPE:-${BASE:-d}}",
    "NESTED_TWICE=${NOPE:-${BASE}${NOPE2:-d}}", "DEEP=${NOPE:-${NOPE2:-${NOPE3:-deep}}}",
    "PATHY=${NOPE:-/a/b:c/d}", "PATHY_NESTED=${NOPE:-${NOPE2:-/x:y/z}}", "PLAIN_PATHY=$NOPE:-/a/b:c",
    "U=user", "P=pass", "H=db.internal", "PORT=5432", "DB=ocd",
    "DB_URI=postgres://${U}:${P}@${H}:${PORT}/${DB}", "PLAIN_URI=postgres://$U:$P@$H:$PORT/$DB",
    "USERPASS=${U}:${P}", "RECURSIVE=postgres://${USERPASS}@$H", "FROM_ENV=$HOSTNAME_ENV",
    "DOTTED.NAME=dotted", "DOTTED_REF=${DOTTED.NAME}", "DOLLAR=$", "ONE=1", "TWO=2", "ONETWO=${ONE}$TWO$ONE",
    `${K}=k3y-\${DB_URI}-$DEEP`,
  ].join("\n") + "\n" } },
  // Syntax.
  { name: "comments", files: { ".env": `# c\n${K}=k3y#tail\nA=a # c\nB="b#c" # d\n` } },
  { name: "export and colons", files: { ".env": `export ${K}=k3y-x\nA: a\nexport B: b\nexport=e\n` } },
  { name: "spaces around =", files: { ".env": `  ${K}  =   k3y-sp   \n` } },
  { name: "quotes", files: { ".env": `A='a b'\nB="b\\nc"\nC=\`c d\`\n${K}="k3y-q"\nD='it\\'s'\nE="say \\"hi\\""\n` } },
  { name: "multi-line values", files: { ".env": `A="one\ntwo"\n${K}='k3y\nB=2'\nC=3\n` } },
  { name: "unclosed quotes", files: { ".env": `A='abc\n${K}="k3y\nB=\`b\n` } },
  { name: "a quote closed early and again", files: { ".env": `${K}='k3y' x'\nA="a" b\n` } },
  { name: "a value on the next line", files: { ".env": `${K}=\n'k3y-next'\nA=\nB=b\n` } },
  { name: "a name on one line and = on the next", files: { ".env": `${K}\n=k3y-split\n` } },
  { name: "lines that are not assignments", files: { ".env": `garbage\n${K} k3y-no\nA=1\n$B=2\n${K}=k3y-ok\n` } },
  { name: "CRLF and CR", files: { ".env": `A=1\r\n${K}=k3y-crlf\r\nB="x\r\ny"\rC=3` } },
  { name: "a byte-order mark", files: { ".env": `\ufeff${K}=k3y-bom\n` } },
  { name: "a line separator inside a value", files: { ".env": `${K}=k3y\u2028A=1\nB='b'\u2028C=2\n` } },
  { name: "a later duplicate wins in one file", files: { ".env": `${K}=k3y-1\n${K}=k3y-2\n` } },
  { name: "duplicates in two files and a reference between them", files: { ".env.local": `A=local\n`, ".env": `A=dot\n${K}=k3y-$A\n` } },
  { name: "bytes that are not UTF-8", files_bytes: { ".env": `A=\xff\n${K}=k3y-ok\nB=x\xc3(y\n` } },
];

// Random cases: files built from the pieces of the syntax, to find what the
// hand-written ones miss. A fixed seed keeps the corpus stable.
function mulberry32(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(20261203);
const pick = (list) => list[Math.floor(rand() * list.length)];
const names = [K, "A", "B", "C", "1", "2", "API_BASE_URL"];
const pieces = [
  "k3y", "x", "A", " ", "  ", "\t", "$", "$A", "$B", "${A}", "${C:-d}", "${B:-$A}", "${A", "}", "\\$", "\\",
  "$$", "$&", "$'", "$`", "'", "\"", "`", "#", " #c", "=", ":", "\\n", "\n", "\r\n", "\r", "\u2028", "é",
  "$" + K, "${" + K + "}", "export ", "${1}",
];
function randomValue() {
  let v = "";
  const n = Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) v += pick(pieces);
  return v;
}
function randomLine() {
  const r = rand();
  if (r < 0.05) return "# " + randomValue();
  if (r < 0.08) return "";
  if (r < 0.12) return randomValue();
  const prefix = rand() < 0.1 ? "export " : rand() < 0.1 ? "  " : "";
  const sep = pick(["=", "=", "=", " = ", ": ", ":", "="]);
  const quote = pick(["", "", "", "'", "\"", "`"]);
  const close = rand() < 0.85 ? quote : "";
  return prefix + pick(names) + sep + quote + randomValue() + close + (rand() < 0.1 ? " # c" : "");
}
const fileNames = [".env.production.local", ".env.local", ".env.production", ".env", ".env.test", ".env.test.local"];
for (let i = 0; i < 400; i++) {
  const files = {};
  for (const f of fileNames) {
    if (rand() < 0.45) {
      const lines = [];
      const n = 1 + Math.floor(rand() * 5);
      for (let j = 0; j < n; j++) lines.push(randomLine());
      files[f] = lines.join(pick(["\n", "\n", "\r\n"])) + (rand() < 0.8 ? "\n" : "");
    }
  }
  const env = {};
  for (const name of names) {
    if (rand() < 0.12) env[name] = randomValue();
  }
  if (rand() < 0.15) env.NODE_ENV = "test";
  cases.push({ name: `random ${i}`, env, files });
}

// Random cases closer to real files: generated keys and URLs with a `$` here
// and there, references to names that are mostly set, rarely to themselves.
const keyChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
function generatedKey() {
  let k = "";
  const n = 8 + Math.floor(rand() * 24);
  for (let i = 0; i < n; i++) {
    const r = rand();
    k += r < 0.06 ? "$" : r < 0.08 ? "\\$" : r < 0.09 ? "#" : keyChars[Math.floor(rand() * keyChars.length)];
  }
  return k;
}
const ordinaryNames = [K, "API_BASE_URL", "OCD_KEY", "HOST", "PORT", "SUFFIX", "DATABASE_URL"];
function ordinaryValue(name) {
  const r = rand();
  if (r < 0.35) return generatedKey();
  if (r < 0.5) return "http://${HOST:-localhost}:$PORT";
  if (r < 0.6) return "${" + pick(ordinaryNames) + "}";
  if (r < 0.7) return "pre$" + pick(ordinaryNames) + "post";
  if (r < 0.8) return "${UNSET:-" + generatedKey() + "}";
  return pick(["3000", "db.internal", "-x", "", "postgres://u:p@h/db"]);
}
for (let i = 0; i < 200; i++) {
  const files = {};
  for (const f of fileNames.slice(0, 4)) {
    if (rand() < 0.5) {
      const lines = [];
      const n = 1 + Math.floor(rand() * 4);
      for (let j = 0; j < n; j++) {
        const name = pick(ordinaryNames);
        const quote = pick(["", "", "'", "\"", "`"]);
        lines.push((rand() < 0.1 ? "export " : "") + name + "=" + quote + ordinaryValue(name) + quote);
      }
      files[f] = lines.join("\n") + "\n";
    }
  }
  const env = {};
  for (const name of ordinaryNames) if (rand() < 0.1) env[name] = ordinaryValue(name);
  cases.push({ name: `ordinary ${i}`, env, files });
}

// Runs Next's loader on one case, in a process of its own that has exactly
// the case's environment, in a directory of its own. Some files make Next's
// expansion grow without end (a replacement pattern such as $& inserting
// the text again): the child's memory and time are capped, and a case that
// exhausts them is recorded as a crash.
function load(c) {
  const child = require("child_process").spawnSync(
    process.execPath,
    ["--max-old-space-size=32", __filename, "--one", modules],
    { input: JSON.stringify(c), env: c.env || {}, timeout: 20000, maxBuffer: 64 << 20 },
  );
  if (child.status !== 0) {
    return { loaded: [], errors: [], crash: child.error ? "timeout" : "out of memory", expected: {} };
  }
  return JSON.parse(child.stdout);
}

function loadHere(c) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "next-env-"));
  const files = Object.assign({}, c.files);
  for (const [name, bytes] of Object.entries(c.files_bytes || {})) files[name] = Buffer.from(bytes, "latin1");
  for (const [name, text] of Object.entries(files)) {
    if (name.endsWith("/")) fs.mkdirSync(path.join(dir, name));
    else fs.writeFileSync(path.join(dir, name), text);
  }
  const { loadEnvConfig } = require(pkg);
  const errors = [];
  const log = { info() {}, warn() {}, error(message) { errors.push(String(message)); } };
  const { loadedEnvFiles } = loadEnvConfig(dir, false, log);
  const expected = {};
  const seen = new Set(Object.keys(c.env || {}));
  for (const f of loadedEnvFiles) for (const k of Object.keys(f.env)) seen.add(k);
  for (const text of Object.values(files)) {
    // Every name a file mentions, set or not: a missing one is null.
    for (const m of String(text).matchAll(/[\w.-]+/g)) seen.add(m[0]);
  }
  for (const k of [...seen].sort()) {
    if (k === "__NEXT_PROCESSED_ENV" || k === "__proto__") continue;
    expected[k] = Object.prototype.hasOwnProperty.call(process.env, k) ? process.env[k] : null;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return { loaded: loadedEnvFiles.map((f) => f.path), errors: errors.map((e) => e.replace(dir, "DIR")), expected };
}

if (process.argv[2] === "--one") {
  const c = JSON.parse(fs.readFileSync(0, "utf8"));
  process.stdout.write(JSON.stringify(loadHere(c)));
  process.exit(0);
}

const corpus = cases.map((c) => {
  const result = load(c);
  const entry = { name: c.name, env: c.env || {} };
  if (c.files_bytes) entry.files_bytes = c.files_bytes;
  entry.files = c.files || {};
  return Object.assign(entry, result);
});
fs.writeFileSync(out, JSON.stringify({ generator: `@next/env ${version}, loadEnvConfig(dir, false)`, cases: corpus }, null, 1) + "\n");

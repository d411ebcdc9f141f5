// public/seal.js (the browser's FORMAT.md) against the vectors in
// format/vectors/v1.json, against node's own crypto (a second, independent
// computation of every vector), and against damaged objects.
//
// Run: node --test end2end/format/   (COURIER_VECTORS=<file> reads another file)
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import nodeCrypto from "node:crypto";

import { readAll } from "./streams.mjs";

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const seal = require(path.join(root, "public/seal.js"));

const RECORD = 65536;
const SEALED = 65552;

/** Byte i of every vector's file is i mod 251. */
function plaintext(size) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = i % 251;
  return bytes;
}

const sha256 = (bytes) => nodeCrypto.createHash("sha256").update(bytes).digest("hex");
const fromHex = (text) => new Uint8Array(Buffer.from(text, "hex"));
const b64u = (bytes) => Buffer.from(bytes).toString("base64url");

async function sealWhole(ikm, bytes) {
  const records = seal.recordCount(bytes.length);
  return new Uint8Array(await (await seal.sealRecords(ikm, new Blob([bytes]), 0, records)).arrayBuffer());
}

/** Everything a vector holds, computed by seal.js from the vector's inputs. */
async function computeWithSeal(v) {
  const fixed = {
    secret: v.secret,
    salt: v.kdf ? v.kdf.salt : undefined,
    iterations: v.kdf ? v.kdf.iterations : undefined,
    iv: fromHex(v.metadata_iv),
  };
  const begun = await seal.begin({ ...v.metadata, password: v.password }, fixed);
  const bytes = await seal.deriveKeyBytes(begun.ikm);
  const keys = await seal.deriveKeys(begun.ikm);
  const object = await sealWhole(begun.ikm, plaintext(v.plaintext_size));
  const out = {
    keys: {
      content: seal.hex(bytes.content),
      nonce: seal.hex(bytes.nonce),
      metadata: seal.hex(bytes.metadata),
      auth: seal.hex(bytes.auth),
    },
    object_size: seal.objectSize(v.plaintext_size),
    object_sha256: sha256(object),
    sealed_metadata: seal.openSeal(begun.seal).meta,
    seal: begun.seal,
    auth_proof: await seal.proof(keys, v.auth_nonce),
  };
  if (object.length < 256) out.object_hex = Buffer.from(object).toString("hex");
  if (v.part_size !== undefined) {
    out.part_size = seal.partSize(out.object_size);
    // Each part sealed on its own, as the uploader does.
    const total = seal.recordCount(v.plaintext_size);
    const perPart = out.part_size / SEALED;
    const file = plaintext(v.plaintext_size);
    out.part_sha256 = [];
    for (let first = 0; first < total; first += perPart) {
      const slice = file.subarray(first * RECORD, Math.min(file.length, (first + perPart) * RECORD));
      const part = await seal.sealRecords(begun.ikm, new Blob([slice]), first, total);
      out.part_sha256.push(sha256(new Uint8Array(await part.arrayBuffer())));
    }
  }
  return { out, object, keys, ikm: begun.ikm };
}

/** The same from node:crypto alone (no seal.js): a third opinion on FORMAT.md. */
function computeWithNode(v) {
  const secret = Buffer.from(v.secret, "base64url");
  let ikm = secret;
  if (v.kdf) {
    const stretched = nodeCrypto.pbkdf2Sync(Buffer.from(v.password, "utf8"), Buffer.from(v.kdf.salt, "base64url"), v.kdf.iterations, 32, "sha256");
    ikm = Buffer.concat([secret, stretched]);
  }
  const hkdf = (info, length) => Buffer.from(nodeCrypto.hkdfSync("sha256", ikm, Buffer.from("courier-e2e-v1"), Buffer.from(info), length));
  const keys = {
    content: hkdf("content key", 16),
    nonce: hkdf("content nonce", 12),
    metadata: hkdf("metadata key", 16),
    auth: hkdf("auth key", 32),
  };
  const gcm = (key, iv, data) => {
    const cipher = nodeCrypto.createCipheriv("aes-128-gcm", key, iv);
    return Buffer.concat([cipher.update(data), cipher.final(), cipher.getAuthTag()]);
  };
  const file = plaintext(v.plaintext_size);
  const n = Math.max(1, Math.ceil(file.length / RECORD));
  const records = [];
  for (let i = 0; i < n; i++) {
    const nonce = Buffer.from(keys.nonce);
    const counter = Buffer.alloc(12);
    counter.writeBigUInt64BE(BigInt(i), 3);
    counter[11] = i === n - 1 ? 1 : 0;
    for (let b = 0; b < 12; b++) nonce[b] ^= counter[b];
    records.push(gcm(keys.content, nonce, file.subarray(i * RECORD, Math.min(file.length, (i + 1) * RECORD))));
  }
  const object = Buffer.concat(records);
  let json = Buffer.from(JSON.stringify({ name: v.metadata.name, type: v.metadata.type, size: v.metadata.size }));
  const padded = Buffer.alloc(Math.ceil(json.length / 256) * 256, 0x20);
  json.copy(padded);
  const iv = Buffer.from(v.metadata_iv, "hex");
  const sealedMetadata = b64u(Buffer.concat([iv, gcm(keys.metadata, iv, padded)]));
  const kdf = v.kdf && { name: v.kdf.name, salt: v.kdf.salt, iterations: v.kdf.iterations };
  const sealJson = JSON.stringify({ v: 1, auth: b64u(keys.auth), meta: sealedMetadata, kdf });
  const out = {
    keys: Object.fromEntries(Object.entries(keys).map(([k, value]) => [k, value.toString("hex")])),
    object_size: object.length,
    object_sha256: sha256(object),
    sealed_metadata: sealedMetadata,
    seal: b64u(Buffer.from(sealJson)),
    auth_proof: b64u(nodeCrypto.createHmac("sha256", keys.auth).update(v.auth_nonce).digest()),
  };
  if (object.length < 256) out.object_hex = object.toString("hex");
  if (v.part_size !== undefined) {
    const k = Math.max(128, Math.ceil(n / 10000));
    out.part_size = k * SEALED;
    out.part_sha256 = [];
    for (let at = 0; at < object.length; at += out.part_size) {
      out.part_sha256.push(sha256(object.subarray(at, at + out.part_size)));
    }
  }
  return out;
}

/** Every field the vector states, compared one by one so a failure names it. */
function assertFields(name, expected, actual, who) {
  for (const field of ["keys", "object_size", "object_sha256", "object_hex", "part_size", "part_sha256", "sealed_metadata", "seal", "auth_proof"]) {
    if (expected[field] === undefined) continue;
    assert.deepEqual(actual[field], expected[field], `${name}: ${who}'s ${field} differs from the vector's`);
  }
}

/** Reads the whole plaintext of `object`, in chunks of `chunkSizes` (cycled),
 * three ways that must agree: through `decryptor`, and through `openObject`
 * from a plain stream and from a byte stream (read with a BYOB reader, as a
 * fetch's body is). */
async function open(keys, object, size, chunkSizes = [SEALED + 1]) {
  const source = (bytes) => {
    let at = 0;
    let c = 0;
    return new ReadableStream({
      ...(bytes && { type: "bytes" }),
      pull(controller) {
        if (at >= object.length) {
          controller.close();
          controller.byobRequest?.respond(0);
          return;
        }
        const length = chunkSizes[c++ % chunkSizes.length];
        controller.enqueue(object.slice(at, at + length));
        at += length;
      },
    });
  };
  // How each openObject said it ended (its onEnd), to check against how it did.
  const ends = [[], []];
  const ended = (which) => ({ onEnd: (how, error) => ends[which].push({ how, error }) });
  const ways = await Promise.allSettled([
    readAll(source(false).pipeThrough(seal.decryptor(keys, size))),
    readAll(seal.openObject(source(false), keys, size, ended(0))),
    readAll(seal.openObject(source(true), keys, size, ended(1))),
  ]);
  for (const [which, said] of ends.entries()) {
    const way = ways[which + 1];
    assert.equal(said.length, 1, `openObject's onEnd was called ${said.length} times`);
    if (way.status === "fulfilled") {
      assert.deepEqual(said[0], { how: "done", error: undefined });
    } else {
      assert.equal(said[0].how, "error");
      assert.equal(said[0].error, way.reason, "onEnd was given another error than the stream's");
    }
  }
  const failed = ways.filter((way) => way.status === "rejected");
  if (failed.length === 0) {
    assert.deepEqual(ways[1].value, ways[0].value, "openObject reads another file than decryptor");
    assert.deepEqual(ways[2].value, ways[0].value, "openObject from a byte stream reads another file than decryptor");
    return ways[0].value;
  }
  assert.equal(failed.length, ways.length, `only some ways refuse: ${failed.map((way) => way.reason)}`);
  for (const way of failed) {
    assert.equal(way.reason?.code, failed[0].reason?.code, `the ways refuse differently: ${failed.map((way) => way.reason)}`);
  }
  throw failed[0].reason;
}

async function refused(promise, code) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.name, "SealError", String(error));
    if (code) assert.equal(error.code, code, error.message);
    return true;
  });
}

// ---- Known answers ----------------------------------------------------------

const vectorsPath = process.env.COURIER_VECTORS || path.join(root, "format/vectors/v1.json");

test("the vectors: seal.js and node:crypto both give every field", async (t) => {
  assert.ok(existsSync(vectorsPath), `${vectorsPath} is missing (the Rust side writes it)`);
  const file = JSON.parse(readFileSync(vectorsPath, "utf8"));
  assert.equal(file.format, "courier-e2e-v1");
  assert.ok(file.vectors.length > 0);
  for (const v of file.vectors) {
    await t.test(v.name, async () => {
      assert.equal(seal.objectSize(v.plaintext_size), v.object_size);
      assertFields(v.name, v, computeWithNode(v), "node:crypto");
      const { out, object, keys } = await computeWithSeal(v);
      assertFields(v.name, v, out, "seal.js");
      // And it reads back: metadata, the whole file.
      assert.deepEqual(await seal.openMetadata(keys, v.sealed_metadata), v.metadata);
      assert.deepEqual(seal.openSeal(v.seal).kdf, v.kdf);
      const back = await open(keys, object, v.plaintext_size, [4096, 70000, 1]);
      assert.deepEqual(back, plaintext(v.plaintext_size));
      // From the secret as the share page gets it (the link's fragment).
      const ikm = await seal.ikmFrom(seal.fromB64u(v.secret), v.password, v.kdf);
      assert.equal(seal.hex((await seal.deriveKeyBytes(ikm)).auth), v.keys.auth);
    });
  }
});

// ---- Sizes ------------------------------------------------------------------

test("sizes and parts as FORMAT.md counts them", () => {
  assert.equal(seal.objectSize(0), 16);
  assert.equal(seal.objectSize(1), 17);
  assert.equal(seal.objectSize(RECORD), RECORD + 16);
  assert.equal(seal.objectSize(RECORD + 1), RECORD + 33);
  for (const size of [0, 1, 100, RECORD - 1, RECORD, RECORD + 1, 3 * RECORD + 5]) {
    assert.equal(seal.plainSize(seal.objectSize(size)), size);
  }
  assert.equal(seal.plainSize(15), null);
  assert.equal(seal.plainSize(SEALED + 16), null);
  assert.equal(seal.partSize(16), 8390656);
  const huge = seal.objectSize(5 * 1024 ** 4 - 1024);
  const part = seal.partSize(huge);
  assert.equal(part % SEALED, 0);
  assert.ok(Math.ceil(huge / part) <= 10000);
  assert.equal(seal.partSize(seal.objectSize(128 * 10000 * RECORD)), 128 * SEALED);
  assert.equal(seal.partSize(seal.objectSize(128 * 10000 * RECORD + 1)), 129 * SEALED);
});

test("base64url: no padding, strict", () => {
  for (let length = 0; length < 40; length++) {
    const bytes = nodeCrypto.randomBytes(length);
    assert.equal(seal.toB64u(bytes), bytes.toString("base64url"));
    assert.deepEqual(Buffer.from(seal.fromB64u(bytes.toString("base64url"))), bytes);
  }
  for (const bad of ["A", "AB=", "AB+/", "AB C", "AB/", "AR"]) {
    assert.throws(() => seal.fromB64u(bad), /base64url/, bad);
  }
});

// ---- Uploading --------------------------------------------------------------

test("begin: fresh secrets, a seal as FORMAT.md writes it, 600,000 iterations with a password", async () => {
  const one = await seal.begin({ name: "a.txt", type: "text/plain", size: 5 });
  const two = await seal.begin({ name: "a.txt", type: "text/plain", size: 5 });
  assert.notEqual(one.secret, two.secret);
  assert.equal(seal.fromB64u(one.secret).length, 16);
  assert.equal(one.ikm, one.secret);
  const json = seal.openSeal(one.seal);
  assert.deepEqual(Object.keys(json), ["v", "auth", "meta", "kdf"]);
  assert.equal(json.v, 1);
  assert.equal(json.kdf, null);
  assert.equal(seal.fromB64u(json.auth).length, 32);
  assert.equal(seal.fromB64u(json.meta).length, 12 + 256 + 16);

  const locked = await seal.begin({ name: "b", type: "", size: 0, password: "pässword" });
  const kdf = seal.openSeal(locked.seal).kdf;
  assert.deepEqual(Object.keys(kdf), ["name", "salt", "iterations"]);
  assert.equal(kdf.name, "PBKDF2-SHA256");
  assert.equal(kdf.iterations, 600000);
  assert.equal(seal.fromB64u(kdf.salt).length, 16);
  assert.equal(seal.fromB64u(locked.ikm).length, 48);
  assert.equal(await seal.ikmFrom(locked.secret, "pässword", kdf), locked.ikm);
  const keys = await seal.deriveKeys(locked.ikm);
  assert.deepEqual(await seal.openMetadata(keys, seal.openSeal(locked.seal).meta), { name: "b", type: "", size: 0 });
  // A long name pads to the next 256.
  const long = await seal.begin({ name: "é".repeat(200), type: "", size: 0 });
  assert.equal(seal.fromB64u(seal.openSeal(long.seal).meta).length, 12 + 512 + 16);
});

test("sealRecords: parts sealed apart equal the whole, deterministic; bad slices refused", async () => {
  const { ikm } = await seal.begin({ name: "x", type: "", size: 3 * RECORD + 7 });
  const file = plaintext(3 * RECORD + 7);
  const whole = await sealWhole(ikm, file);
  assert.equal(whole.length, seal.objectSize(file.length));
  assert.deepEqual(await sealWhole(ikm, file), whole);
  const front = await seal.sealRecords(ikm, new Blob([file.subarray(0, 2 * RECORD)]), 0, 4);
  const back = await seal.sealRecords(ikm, new Blob([file.subarray(2 * RECORD)]), 2, 4);
  assert.deepEqual(new Uint8Array(await new Blob([front, back]).arrayBuffer()), whole);
  await refused(seal.sealRecords(ikm, new Blob([file.subarray(0, RECORD + 1)]), 0, 4), "input");
  await refused(seal.sealRecords(ikm, new Blob([file]), 1, 4), "input");
  await refused(seal.sealRecords(ikm, new Blob([]), 0, 2), "input");
  await refused(seal.sealRecords(ikm, new Blob([file]), 0, 5), "input");
});

// ---- Reading, and refusing --------------------------------------------------

test("any chunking reads the same file; an empty file is one tag", async () => {
  const size = 4 * RECORD + 100;
  const { ikm } = await seal.begin({ name: "x", type: "", size });
  const keys = await seal.deriveKeys(ikm);
  const object = await sealWhole(ikm, plaintext(size));
  for (const chunks of [[1 << 20], [SEALED], [SEALED - 1], [SEALED + 1], [7, 65000, 300000], [object.length]]) {
    assert.deepEqual(await open(keys, object, size, chunks), plaintext(size), String(chunks));
  }
  // More records than openObject reads into at once (16): its buffer fills,
  // and the records already started give their room to the next read.
  const many = 40 * RECORD + 100;
  const manyBegun = await seal.begin({ name: "m", type: "", size: many });
  const manyKeys = await seal.deriveKeys(manyBegun.ikm);
  const manyObject = await sealWhole(manyBegun.ikm, plaintext(many));
  for (const chunks of [[1 << 20], [SEALED - 1], [7, 65000, 300000], [manyObject.length]]) {
    assert.deepEqual(await open(manyKeys, manyObject, many, chunks), plaintext(many), String(chunks));
  }
  const flipped = manyObject.slice();
  flipped[20 * SEALED + 3] ^= 1;
  await refused(open(manyKeys, flipped, many, [1 << 20]), "damaged");
  await refused(open(manyKeys, manyObject.subarray(0, 20 * SEALED), many, [1 << 20]), "truncated");
  // A byte at a time (two records, for time).
  const two = await seal.begin({ name: "y", type: "", size: RECORD + 3 });
  const twoObject = await sealWhole(two.ikm, plaintext(RECORD + 3));
  assert.deepEqual(await open(await seal.deriveKeys(two.ikm), twoObject, RECORD + 3, [1]), plaintext(RECORD + 3));
  const empty = await seal.begin({ name: "e", type: "", size: 0 });
  const emptyObject = await sealWhole(empty.ikm, new Uint8Array(0));
  assert.equal(emptyObject.length, 16);
  const emptyKeys = await seal.deriveKeys(empty.ikm);
  assert.equal((await open(emptyKeys, emptyObject, 0, [1])).length, 0);
  await refused(open(emptyKeys, new Uint8Array(0), 0), "truncated");
  await refused(open(emptyKeys, emptyObject.subarray(0, 15), 0), "truncated");
});

test("openObject cancelled by its reader says so once, and cancels the object's body", async () => {
  // More than openObject reads ahead of its first record.
  const size = 64 * RECORD;
  const { ikm } = await seal.begin({ name: "c", type: "", size });
  const object = await sealWhole(ikm, plaintext(size));
  let bodyCancelled = false;
  let at = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (at >= object.length) {
        controller.close();
        return;
      }
      controller.enqueue(object.slice(at, at + SEALED));
      at += SEALED;
    },
    cancel() {
      bodyCancelled = true;
    },
  });
  const said = [];
  const plain = seal.openObject(body, await seal.deriveKeys(ikm), size, {
    onEnd: (how, error) => said.push({ how, error }),
  });
  const reader = plain.getReader();
  assert.deepEqual((await reader.read()).value, plaintext(size).subarray(0, RECORD));
  await reader.cancel("the person cancelled the download");
  assert.deepEqual(said, [{ how: "cancelled", error: undefined }]);
  assert.ok(bodyCancelled, "the object's body was left open");
});

test("openObject lets go of what no one reads again, and never of what someone may", async () => {
  // Node 20 has no ArrayBuffer.prototype.transfer (browsers and later Nodes
  // do): detached the way a transfer detaches, for this test only.
  const own = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "transfer");
  if (!own) {
    ArrayBuffer.prototype.transfer = function () {
      structuredClone(this, { transfer: [this] });
      return new ArrayBuffer(0);
    };
  }
  try {
    const size = 40 * RECORD + 100;
    const { ikm } = await seal.begin({ name: "g", type: "", size });
    const keys = await seal.deriveKeys(ikm);
    const object = await sealWhole(ikm, plaintext(size));
    const detached = (chunk) => chunk.buffer.byteLength === 0;
    // A body read with a default reader, as WebKit's fetch bodies are:
    // each chunk its own buffer, but for one sharing its buffer with another.
    const given = [];
    const body = (lengths) => {
      let at = 0;
      let c = 0;
      return new ReadableStream({
        pull(controller) {
          if (at >= object.length) return controller.close();
          const length = lengths[c++ % lengths.length];
          const chunk = object.slice(at, at + length);
          given.push(chunk);
          controller.enqueue(chunk);
          at += length;
        },
      });
    };
    for (const readerCopies of [true, false]) {
      given.length = 0;
      const taken = [];
      const copies = [];
      const reader = seal.openObject(body([30000, 100000, 7]), keys, size, { readerCopies }).getReader();
      for (;;) {
        // A slow reader: the stream runs ahead and fills its queue meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 2));
        const { done, value } = await reader.read();
        if (done) break;
        assert.ok(!detached(value), "a chunk was let go before its reader took it");
        taken.push(value);
        copies.push(value.slice());
      }
      assert.deepEqual(Buffer.concat(copies), Buffer.from(plaintext(size)), `readerCopies: ${readerCopies}`);
      assert.ok(given.length > 40 && given.every(detached), "a body's chunk was kept once copied out");
      const letGo = taken.filter(detached).length;
      if (readerCopies) {
        // All but those still queued when the stream ended (at most 8) and
        // the one taken last before they were.
        assert.ok(letGo >= taken.length - 9 && taken.length > 40, `${letGo} of ${taken.length} chunks let go`);
      } else {
        assert.equal(letGo, 0, "a chunk its reader may keep was let go");
      }
    }
    // A connection that breaks in the middle (WebKit's bodies, default
    // readers): what was let go is not needed again; the object is asked
    // for again from where no record has started, and reads whole.
    given.length = 0;
    const asked = [];
    const pieces = {
      resumable: () => true,
      open(position) {
        asked.push(position);
        if (position >= object.length) return null;
        let at = position;
        const broken = asked.length === 1;
        return new ReadableStream({
          pull(controller) {
            if (broken && at >= 5 * SEALED + 1234) return controller.error(new TypeError("network error"));
            if (at >= object.length) return controller.close();
            const chunk = object.slice(at, Math.min(object.length, at + 40000));
            given.push(chunk);
            controller.enqueue(chunk);
            at += chunk.length;
          },
        });
      },
    };
    // A reader that copies each chunk as it takes it, as readerCopies says.
    const copied = [];
    const copying = seal.openObject(pieces, keys, size, { readerCopies: true }).getReader();
    for (let step = await copying.read(); !step.done; step = await copying.read()) copied.push(step.value.slice());
    assert.deepEqual(Buffer.concat(copied), Buffer.from(plaintext(size)));
    assert.equal(asked.length, 3, `asked for ${asked}`);
    assert.equal(asked[1] % SEALED, 0, "asked again from inside a record");
    assert.ok(asked[1] <= 5 * SEALED && given.every(detached), "a body's chunk was kept once copied out");
    // A chunk that is a view of a larger buffer is left to the collector:
    // another view of it may be unread.
    given.length = 0;
    const shared = object.slice();
    const halves = [shared.subarray(0, 20 * SEALED), shared.subarray(20 * SEALED)];
    const views = new ReadableStream({
      pull(controller) {
        const next = halves.shift();
        return next ? controller.enqueue(next) : controller.close();
      },
    });
    assert.deepEqual(await readAll(seal.openObject(views, keys, size)), plaintext(size));
    assert.ok(!detached(shared), "a buffer with another view in it was let go");
  } finally {
    if (!own) delete ArrayBuffer.prototype.transfer;
  }
});

test("the collector is nudged every 128 records where chunks wait for it, never where they are let go", async () => {
  const size = 300 * RECORD;
  const { ikm } = await seal.begin({ name: "n", type: "", size });
  const keys = await seal.deriveKeys(ikm);
  const object = await sealWhole(ikm, plaintext(size));
  const original = globalThis.ArrayBuffer;
  let nudges = 0;
  globalThis.ArrayBuffer = new Proxy(original, {
    construct(target, args, newTarget) {
      if (args[0] >= 64 * 1024 * 1024) nudges++;
      return Reflect.construct(target, args, newTarget === globalThis.ArrayBuffer ? target : newTarget);
    },
  });
  try {
    for (const [readerCopies, expected] of [[false, 2], [true, 0]]) {
      nudges = 0;
      const body = new ReadableStream({ start: (c) => { c.enqueue(object.slice()); c.close(); } });
      const copies = [];
      const reader = seal.openObject(body, keys, size, { readerCopies }).getReader();
      for (let step = await reader.read(); !step.done; step = await reader.read()) copies.push(step.value.slice());
      assert.equal(copies.reduce((n, c) => n + c.length, 0), size);
      assert.equal(nudges, expected, `readerCopies: ${readerCopies}`);
    }
  } finally {
    globalThis.ArrayBuffer = original;
  }
});

test("readerCopies is on where the browser's reader of a Response copies: WebKit's and Gecko's, not Chromium's", () => {
  const NativeResponse = globalThis.Response;
  // SpiderMonkey's errors know their file (an own property there; here, on
  // the prototype, which is what a read of it sees).
  const asGecko = (on) => {
    if (on) Object.defineProperty(Error.prototype, "fileName", { value: "share-sw.js", configurable: true });
    else delete Error.prototype.fileName;
  };
  // Whether buffers can be let go (Node 20 has no transfer; any function
  // stands for it here, as nothing is let go in this test).
  const transfer = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "transfer");
  const canTransfer = (on) => {
    if (on) Object.defineProperty(ArrayBuffer.prototype, "transfer", { value: () => {}, configurable: true });
    else delete ArrayBuffer.prototype.transfer;
  };
  try {
    canTransfer(true);
    // Node (V8, as Chromium): bodies are byte streams and errors have no fileName.
    assert.equal(seal.readerCopiesHere(), false, "V8, byte streams");
    asGecko(true);
    assert.equal(seal.readerCopiesHere(), true, "SpiderMonkey, byte streams");
    // A user agent string that says Firefox changes nothing.
    asGecko(false);
    const own = Object.getOwnPropertyDescriptor(globalThis, "navigator");
    Object.defineProperty(globalThis, "navigator", {
      value: { userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0" },
      configurable: true,
    });
    try {
      assert.equal(seal.readerCopiesHere(), false, "V8 saying it is Firefox");
    } finally {
      if (own) Object.defineProperty(globalThis, "navigator", own);
      else delete globalThis.navigator;
    }
    // Where bodies are no byte streams (WebKit).
    globalThis.Response = class {
      constructor() {
        this.body = new ReadableStream();
      }
    };
    assert.equal(seal.readerCopiesHere(), true, "no byte streams");
    // Where no buffer can be let go, never: the chunks wait for the collector, nudged.
    canTransfer(false);
    assert.equal(seal.readerCopiesHere(), false, "no byte streams, no transfer");
    asGecko(true);
    assert.equal(seal.readerCopiesHere(), false, "SpiderMonkey, no transfer");
  } finally {
    globalThis.Response = NativeResponse;
    asGecko(false);
    if (transfer) Object.defineProperty(ArrayBuffer.prototype, "transfer", transfer);
    else delete ArrayBuffer.prototype.transfer;
  }
});

test("damaged objects are refused, never read as a shorter file", async (t) => {
  const size = 4 * RECORD + 100; // records 0-3 whole, record 4 of 100 bytes
  const password = "open sesame";
  const begun = await seal.begin({ name: "x.bin", type: "", size, password });
  const kdf = seal.openSeal(begun.seal).kdf;
  const keys = await seal.deriveKeys(begun.ikm);
  const object = await sealWhole(begun.ikm, plaintext(size));
  const record = (i) => object.subarray(i * SEALED, Math.min(object.length, (i + 1) * SEALED));
  const join = (...parts) => new Uint8Array(Buffer.concat(parts));

  assert.deepEqual(await open(keys, object, size), plaintext(size));

  await t.test("a flipped byte", async () => {
    for (const at of [0, SEALED + 5, 2 * SEALED - 1, object.length - 1]) {
      const bad = object.slice();
      bad[at] ^= 1;
      await refused(open(keys, bad, size), "damaged");
    }
  });
  await t.test("a dropped record", async () => {
    await refused(open(keys, join(record(0), record(2), record(3), record(4)), size));
    await refused(open(keys, join(record(0), record(1), record(2), record(4)), size));
  });
  await t.test("two records swapped, one repeated", async () => {
    await refused(open(keys, join(record(0), record(2), record(1), record(3), record(4)), size), "damaged");
    await refused(open(keys, join(record(0), record(1), record(1), record(3), record(4)), size), "damaged");
  });
  await t.test("the final record cut", async () => {
    await refused(open(keys, object.subarray(0, object.length - 1), size), "damaged");
    await refused(open(keys, object.subarray(0, object.length - 100), size), "truncated");
    await refused(open(keys, object.subarray(0, 4 * SEALED + 16), size), "truncated");
    await refused(open(keys, object.subarray(0, 4 * SEALED + 1), size), "truncated");
  });
  await t.test("cut at a record boundary", async () => {
    await refused(open(keys, object.subarray(0, 4 * SEALED), size), "truncated");
    await refused(open(keys, object.subarray(0, SEALED), size), "truncated");
    // Even when the reader is told the shorter size.
    await refused(open(keys, object.subarray(0, 4 * SEALED), 4 * RECORD), "truncated");
  });
  await t.test("bytes after the end", async () => {
    await refused(open(keys, join(object, new Uint8Array(1)), size));
    await refused(open(keys, join(object, record(4)), size));
  });
  await t.test("a size other than the metadata's", async () => {
    await refused(open(keys, object, size + 1), "size");
    await refused(open(keys, object, size - 1), "size");
    await refused(open(keys, object, 0), "size");
  });
  await t.test("a wrong secret", async () => {
    const secret = seal.fromB64u(begun.secret);
    secret[0] ^= 1;
    const wrong = await seal.deriveKeys(await seal.ikmFrom(secret, password, kdf));
    await refused(seal.openMetadata(wrong, seal.openSeal(begun.seal).meta), "key");
    await refused(open(wrong, object, size), "damaged");
    assert.notEqual(await seal.proof(wrong, "n"), await seal.proof(keys, "n"));
  });
  await t.test("a wrong password, or none", async () => {
    const wrong = await seal.deriveKeys(await seal.ikmFrom(begun.secret, "open sesame!", kdf));
    await refused(seal.openMetadata(wrong, seal.openSeal(begun.seal).meta), "key");
    await refused(open(wrong, object, size), "damaged");
    await refused(seal.ikmFrom(begun.secret, "", kdf), "input");
    await refused(seal.ikmFrom(begun.secret, password, { ...kdf, iterations: 99999 }), "input");
    await refused(seal.ikmFrom(begun.secret, password, { ...kdf, name: "scrypt" }), "input");
    await refused(seal.ikmFrom(begun.secret, password, { ...kdf, iterations: 10_000_001 }), "input");
  });
});

test("a long name is cut to 255 bytes, keeping its extension, as courier-format cuts it", () => {
  const long = "é".repeat(200) + ".pdf";
  const short = seal.shortName(long);
  assert.ok(Buffer.byteLength(short) <= 255 && short.endsWith(".pdf"), short);
  // 251 bytes of stem: 125 two-byte characters (250 bytes), then the extension.
  assert.equal(short, "é".repeat(125) + ".pdf");
  assert.equal(seal.shortName("a.txt"), "a.txt");
});

test("a name whose seal would not fit in the object's metadata is refused with a sentence", async () => {
  await assert.rejects(
    seal.begin({ name: '"'.repeat(255), type: "", size: 1, password: "pw" }),
    (error) => error.code === "input" && /too long/.test(error.message),
  );
  // A lone surrogate (a Windows name) is made well-formed, so the JSON reads back.
  const begun = await seal.begin({ name: "a\uD800b.txt", type: "", size: 1 });
  const keys = await seal.deriveKeys(begun.ikm);
  const meta = await seal.openMetadata(keys, seal.openSeal(begun.seal).meta);
  assert.equal(meta.name, "a\uFFFDb.txt");
});

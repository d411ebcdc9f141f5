// public/seal.js's download path as the share page uses it: storeRanges
// fetching an encrypted object in ranges from a store (a real HTTP server
// here, on loopback), openObject decrypting across the ranges, and what a
// store or a network can do meanwhile: a URL that expires (renewed through
// Courier's route, seal.renewer), a connection cut in the middle of a
// range (asked for again from where it broke), a store that ignores Range,
// a refusal, a damaged record.
//
// Run: node --test end2end/format/
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import path from "node:path";

import { readAll } from "./streams.mjs";

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const seal = require(path.resolve(here, "../../public/seal.js"));

const RECORD = 65536;
const SEALED = 65552;

function plaintext(size) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7) % 253;
  return bytes;
}

/** An encrypted file of `size` bytes: its keys, its object, its plaintext. */
async function sealed(size) {
  const { ikm } = await seal.begin({ name: "r.bin", type: "", size });
  const plain = plaintext(size);
  const sealedBlob = await seal.sealRecords(ikm, new Blob([plain]), 0, seal.recordCount(size));
  return { keys: await seal.deriveKeys(ikm), object: new Uint8Array(await sealedBlob.arrayBuffer()), plain };
}

/**
 * A store serving `object` at any path in `live` (a Set, changed by the
 * test), 403 elsewhere, 404 everywhere once `gone`, honouring one `bytes=a-b` range; `store.cut` (a
 * count of bytes) ends the next range's connection after that many bytes;
 * `store.drop` (a count) ends that many requests' connections before any answer
 * (`store.dropped` counts them);
 * `store.ignoreRange` answers 200 with everything. POST /renew answers as
 * Courier's renewal route would: `store.renewal` ({status, body}).
 */
async function startStore(object) {
  const store = { live: new Set(["/first"]), gone: false, ranges: [], renewals: [], cut: null, drop: 0, dropped: 0, ignoreRange: false, renewal: null };
  const server = createServer((request, response) => {
    if (request.method === "POST" && request.url === "/renew") {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        store.renewals.push(JSON.parse(body));
        const { status, body: answer } = store.renewal;
        response.writeHead(status, { "Content-Type": "application/json" });
        response.end(JSON.stringify(answer));
      });
      return;
    }
    if (store.drop > 0) {
      store.drop -= 1;
      store.dropped += 1;
      request.socket.destroy();
      return;
    }
    if (store.gone) {
      response.writeHead(404).end("NoSuchKey");
      return;
    }
    if (!store.live.has(request.url)) {
      response.writeHead(403).end("expired");
      return;
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range || "");
    if (!range || store.ignoreRange) {
      response.writeHead(200, { "Content-Length": object.length }).end(object);
      return;
    }
    const from = Number(range[1]);
    const to = Math.min(Number(range[2]), object.length - 1);
    store.ranges.push([from, to]);
    if (from >= object.length) {
      response.writeHead(416).end();
      return;
    }
    response.writeHead(206, {
      "Content-Length": to - from + 1,
      "Content-Range": `bytes ${from}-${to}/${object.length}`,
    });
    if (store.cut !== null) {
      const sent = store.cut;
      store.cut = null;
      response.write(object.subarray(from, from + sent), () => response.socket.destroy());
      return;
    }
    response.end(object.subarray(from, to + 1));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { store, base, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** The file, through storeRanges from `url`, as the share page reads it. */
function download(file, url, size, options) {
  const ranges = seal.storeRanges(url, file.object.length, options);
  return ranges.ready().then(() => readAll(seal.openObject(ranges, file.keys, size)));
}

test("an object read in ranges is the file, whatever the range's size; each range asked for once", async () => {
  const size = 20 * RECORD + 123;
  const file = await sealed(size);
  const { store, base, close } = await startStore(file.object);
  try {
    // Ranges that do not fall on records, and ranges larger than the object.
    for (const rangeBytes of [3 * SEALED + 5, 1 << 20, 1 << 24]) {
      store.ranges = [];
      const got = await download(file, `${base}/first`, size, { rangeBytes });
      assert.deepEqual(got, file.plain, `ranges of ${rangeBytes}`);
      const expected = [];
      for (let at = 0; at < file.object.length; at += rangeBytes) {
        expected.push([at, Math.min(at + rangeBytes, file.object.length) - 1]);
      }
      assert.deepEqual(store.ranges, expected);
    }
  } finally {
    await close();
  }
});

test("ranges are 16 MiB where a fetch's body is a byte stream, 4 MiB where it is not (WebKit)", async () => {
  const MIB = 1 << 20;
  assert.equal(seal.rangeBytesHere(), 16 * MIB, "Node's bodies are byte streams");
  const size = 5 * MIB;
  const file = await sealed(size);
  const { store, base, close } = await startStore(file.object);
  const Native = globalThis.Response;
  try {
    let ranges;
    // A Response whose body is a plain stream, as WebKit's is.
    globalThis.Response = class {
      constructor() {
        this.body = new ReadableStream();
      }
    };
    try {
      assert.equal(seal.rangeBytesHere(), 4 * MIB);
      ranges = seal.storeRanges(`${base}/first`, file.object.length);
    } finally {
      globalThis.Response = Native;
    }
    await ranges.ready();
    assert.deepEqual(await readAll(seal.openObject(ranges, file.keys, size)), file.plain);
    assert.deepEqual(store.ranges, [[0, 4 * MIB - 1], [4 * MIB, file.object.length - 1]]);
  } finally {
    await close();
  }
});

test("an expired URL is renewed through Courier and the download goes on; a refusal says Courier's sentence", async () => {
  const size = 12 * RECORD;
  const file = await sealed(size);
  const { store, base, close } = await startStore(file.object);
  try {
    const rangeBytes = 2 * SEALED;
    // The first URL expires after the first range has answered.
    const expireFirst = seal.storeRanges(`${base}/first`, file.object.length, {
      rangeBytes,
      renew: seal.renewer({ path: `${base}/renew`, token: "d.1.token" }),
    });
    store.renewal = { status: 200, body: { url: `${base}/second`, expires_at: "", renew: "d.1.token" } };
    await expireFirst.ready();
    store.live = new Set(["/second"]);
    assert.deepEqual(await readAll(seal.openObject(expireFirst, file.keys, size)), file.plain);
    assert.ok(store.renewals.length >= 1, "never renewed");
    assert.deepEqual(store.renewals[0], { renew: "d.1.token" });

    // Revoked meanwhile: Courier's sentence, nothing more read.
    store.live = new Set(["/third"]);
    store.renewals = [];
    store.renewal = { status: 410, body: { error: "The sender took this link back, and its files were deleted." } };
    const revoked = download(file, `${base}/fourth`, size, {
      rangeBytes,
      renew: seal.renewer({ path: `${base}/renew`, token: "d.1.token" }),
    });
    await assert.rejects(revoked, (error) => {
      assert.equal(error.code, "refused");
      assert.equal(error.detail, "The sender took this link back, and its files were deleted.");
      return true;
    });
    // Deleted with its share (the sender revoked it): Courier says so too.
    store.gone = true;
    store.renewals = [];
    await assert.rejects(download(file, `${base}/third`, size, {
      rangeBytes,
      renew: seal.renewer({ path: `${base}/renew`, token: "d.1.token" }),
    }), (error) => error.code === "refused" && error.detail.startsWith("The sender took this link back"));
    assert.equal(store.renewals.length, 1);
    // Without a way to renew, the store's refusal: its status.
    await assert.rejects(download(file, `${base}/third`, size, { rangeBytes }), (error) => {
      assert.deepEqual([error.code, error.detail], ["store", "404"]);
      return true;
    });
    store.gone = false;
    await assert.rejects(download(file, `${base}/fourth`, size, { rangeBytes }), (error) => {
      assert.deepEqual([error.code, error.detail], ["store", "403"]);
      return true;
    });
    assert.equal(seal.renewer({ path: `${base}/renew`, token: "" }), null);
  } finally {
    await close();
  }
});

test("a connection cut in the middle of a range is asked for again from where it broke", async () => {
  const size = 10 * RECORD + 5;
  const file = await sealed(size);
  const { store, base, close } = await startStore(file.object);
  try {
    const rangeBytes = 4 * SEALED;
    // The first range whole; the second cut a record and a half in.
    const ranges = seal.storeRanges(`${base}/first`, file.object.length, { rangeBytes });
    await ranges.ready();
    store.cut = SEALED + SEALED / 2;
    assert.deepEqual(await readAll(seal.openObject(ranges, file.keys, size)), file.plain);
    // From the first record the cut range had not started (not from its beginning).
    const resumed = store.ranges.filter(([from]) => from > rangeBytes && from <= rangeBytes + SEALED + SEALED / 2);
    assert.equal(resumed.length, 1, `not resumed inside the broken range: ${JSON.stringify(store.ranges)}`);
  } finally {
    await close();
  }
});

test("a first range whose connection breaks before it answers is asked for again; past the retries, the network's sentence", async () => {
  const size = 3 * RECORD;
  const file = await sealed(size);
  const { store, base, close } = await startStore(file.object);
  try {
    store.drop = 1;
    assert.deepEqual(await download(file, `${base}/first`, size), file.plain);
    assert.equal(store.dropped, 1);
    assert.deepEqual(store.ranges, [[0, file.object.length - 1]]);
    // One break more than there are pauses (1 + 3 + 6 s): the page says so.
    store.dropped = 0;
    store.drop = 4;
    await assert.rejects(seal.storeRanges(`${base}/first`, file.object.length).ready(), { code: "network" });
    assert.equal(store.dropped, 4);
  } finally {
    await close();
  }
});

test("a store that ignores Range gives the whole object at once; a damaged record is never retried", async () => {
  const size = 6 * RECORD + 9;
  const file = await sealed(size);
  const { store, base, close } = await startStore(file.object);
  try {
    store.ignoreRange = true;
    assert.deepEqual(await download(file, `${base}/first`, size, { rangeBytes: SEALED }), file.plain);
    store.ignoreRange = false;
    const damaged = file.object.slice();
    damaged[3 * SEALED + 10] ^= 1;
    const bad = await startStore(damaged);
    try {
      await assert.rejects(download(file, `${bad.base}/first`, size, { rangeBytes: 2 * SEALED }), (error) => error.code === "damaged");
      assert.equal(bad.store.ranges.length, new Set(bad.store.ranges.map(String)).size, "a range was asked for twice");
    } finally {
      await bad.close();
    }
    // An object shorter than its record: found cut, not asked for again and again.
    const short = await startStore(file.object.subarray(0, 4 * SEALED));
    try {
      await assert.rejects(download(file, `${short.base}/first`, size, { rangeBytes: 3 * SEALED }), (error) => error.code === "truncated");
    } finally {
      await short.close();
    }
  } finally {
    await close();
  }
});

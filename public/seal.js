// Courier's end-to-end encryption, FORMAT.md version 1, on WebCrypto.
//
// A classic script (no modules): it defines `globalThis.courierSeal`, which
// the uploader (the WebAssembly engine), the share page (/share-e2e.js), its
// service worker (/share-sw.js, through importScripts) and node's tests
// (`require`) all use. It touches no DOM and keeps no secret anywhere but in
// the CryptoKeys it is handed or derives (cached in memory for one ikm).
//
// Binary values cross the API as base64url without padding (`b64u`), sizes
// as numbers (exact up to 2^53 bytes, far above S3's 5 TiB).
(function (root) {
  "use strict";

  var subtle = root.crypto && root.crypto.subtle;
  var getRandomValues = root.crypto && root.crypto.getRandomValues
    ? function (array) { return root.crypto.getRandomValues(array); }
    : null;
  if (!subtle && typeof require === "function") {
    // Node 18 without the global: its WebCrypto is the same API.
    var webcrypto = require("crypto").webcrypto;
    subtle = webcrypto.subtle;
    getRandomValues = function (array) { return webcrypto.getRandomValues(array); };
  }

  var RECORD_SIZE = 65536;
  var TAG_SIZE = 16;
  var SEALED_RECORD_SIZE = RECORD_SIZE + TAG_SIZE;
  var MIN_RECORDS_PER_PART = 128;
  var MAX_PARTS = 10000;
  var PBKDF2_ITERATIONS = 600000;
  var PBKDF2_MIN_ITERATIONS = 100000;
  // More is refused too: a hostile seal could keep the page busy for hours.
  var PBKDF2_MAX_ITERATIONS = 10000000;
  // What a sender writes: a longer name is cut (keeping its extension), a
  // longer type left out, so the seal fits in the object's metadata.
  var MAX_NAME_BYTES = 255;
  var MAX_TYPE_BYTES = 127;
  // The longest seal Courier keeps (wire::seal::MAX_SEAL_LEN).
  var MAX_SEAL_LENGTH = 1536;
  var METADATA_PADDING = 256;
  // How many records one decryptor keeps in flight (each up to 64 KiB in
  // and out): enough to keep WebCrypto's threads busy, little memory.
  var DECRYPT_WINDOW = 16;
  // How many records openObject reads into at once. Each read of a body is
  // a round trip of its own: through the service worker, a 1 GiB download
  // went at 209-221 MB/s reading into two records' room, 254-274 into 16,
  // 32 or 64 (issue 29), so 16, about 1 MiB.
  var READ_RECORDS = 16;
  // Records queued on each side of a decryptor, so that opening runs ahead
  // of a slow reader (a file being written) instead of waiting on each write.
  var QUEUE = { highWaterMark: 8 };
  var OUTPUT_CHUNK = 16 * 65536;
  // How much of an encrypted object the share page asks the store for at
  // once (storeRanges: rangeBytesHere), and how long openObject waits
  // before asking again for what a broken connection did not bring.
  var RANGE_BYTES = 16 * 1024 * 1024;
  var UNREAD_RANGE_BYTES = 4 * 1024 * 1024;
  var RETRY_PAUSES_MS = [1000, 3000, 6000];

  var encoder = new TextEncoder();
  var decoder = new TextDecoder("utf-8", { fatal: true });
  var HKDF_SALT = encoder.encode("courier-e2e-v1");

  // ---- Errors -------------------------------------------------------------

  // Every refusal is a SealError whose `code` says what went wrong:
  // "damaged" (a record or the metadata does not open), "truncated" (the
  // object ends early), "size" (it opens to another size than the
  // metadata's), "key" (the metadata does not open: a wrong key or
  // password), "input" (a malformed argument); fetching the object
  // (storeRanges): "store" (the store refused, `detail` its HTTP status),
  // "refused" (Courier would not renew its URL, `detail` its sentence),
  // "network".
  function SealError(code, message) {
    var error = new Error(message);
    error.name = "SealError";
    error.code = code;
    return error;
  }

  // ---- base64url ------------------------------------------------------------

  var ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var LOOKUP = new Int16Array(128).fill(-1);
  for (var a = 0; a < ALPHABET.length; a++) {
    LOOKUP[ALPHABET.charCodeAt(a)] = a;
  }

  function toB64u(bytes) {
    bytes = asBytes(bytes);
    var out = "";
    var i = 0;
    for (; i + 2 < bytes.length; i += 3) {
      var n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
    }
    if (bytes.length - i === 1) {
      var one = bytes[i] << 16;
      out += ALPHABET[one >> 18] + ALPHABET[(one >> 12) & 63];
    } else if (bytes.length - i === 2) {
      var two = (bytes[i] << 16) | (bytes[i + 1] << 8);
      out += ALPHABET[two >> 18] + ALPHABET[(two >> 12) & 63] + ALPHABET[(two >> 6) & 63];
    }
    return out;
  }

  // Strict: only the URL-safe alphabet, no padding, no stray bits.
  function fromB64u(text) {
    if (typeof text !== "string" || text.length % 4 === 1) {
      throw SealError("input", "Not base64url.");
    }
    var out = new Uint8Array(Math.floor((text.length * 3) / 4));
    var bits = 0;
    var value = 0;
    var o = 0;
    for (var i = 0; i < text.length; i++) {
      var code = text.charCodeAt(i);
      var digit = code < 128 ? LOOKUP[code] : -1;
      if (digit < 0) {
        throw SealError("input", "Not base64url.");
      }
      value = (value << 6) | digit;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[o++] = (value >> bits) & 255;
      }
    }
    if (value & ((1 << bits) - 1)) {
      throw SealError("input", "Not base64url.");
    }
    return out;
  }

  function asBytes(value) {
    if (value instanceof Uint8Array) {
      return value;
    }
    if (value instanceof ArrayBuffer) {
      return new Uint8Array(value);
    }
    if (ArrayBuffer.isView(value)) {
      return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    }
    if (typeof value === "string") {
      return fromB64u(value);
    }
    throw SealError("input", "Expected bytes or base64url.");
  }

  function concat(a, b) {
    var out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
  }

  function hex(bytes) {
    bytes = asBytes(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return out;
  }

  function randomBytes(length) {
    return getRandomValues(new Uint8Array(length));
  }

  // ---- Sizes ----------------------------------------------------------------

  function checkSize(size, what) {
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
      throw SealError("input", what + " must be a whole number of bytes.");
    }
  }

  // Records in a file of `size` bytes: the last may be short, an empty file has one.
  function recordCount(size) {
    checkSize(size, "size");
    return Math.max(1, Math.ceil(size / RECORD_SIZE));
  }

  // The object's size for a file of `size` bytes.
  function objectSize(size) {
    return size + TAG_SIZE * recordCount(size);
  }

  // The file's size for an object of `size` bytes, or null when no file seals to it.
  function plainSize(size) {
    checkSize(size, "objectSize");
    var records = Math.max(1, Math.ceil(size / SEALED_RECORD_SIZE));
    var plain = size - TAG_SIZE * records;
    return plain >= 0 && objectSize(plain) === size ? plain : null;
  }

  // Every part's size but the last's: k records of 65,552 bytes.
  function partSize(size) {
    checkSize(size, "objectSize");
    var records = Math.max(1, Math.ceil(size / SEALED_RECORD_SIZE));
    return Math.max(MIN_RECORDS_PER_PART, Math.ceil(records / MAX_PARTS)) * SEALED_RECORD_SIZE;
  }

  // ---- Keys -----------------------------------------------------------------

  function hkdf(baseKey, info, bytes) {
    return subtle
      .deriveBits({ name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: encoder.encode(info) }, baseKey, bytes * 8)
      .then(function (bits) { return new Uint8Array(bits); });
  }

  function checkKdf(kdf) {
    if (!kdf || kdf.name !== "PBKDF2-SHA256" || typeof kdf.salt !== "string") {
      throw SealError("input", "This file's key derivation is not one Courier knows.");
    }
    if (!Number.isSafeInteger(kdf.iterations) || kdf.iterations < PBKDF2_MIN_ITERATIONS ||
        kdf.iterations > PBKDF2_MAX_ITERATIONS) {
      throw SealError("input", "This file's password protection is too weak to trust.");
    }
    var salt;
    try {
      salt = fromB64u(kdf.salt);
    } catch (error) {
      salt = null;
    }
    if (!salt || salt.length !== 16) {
      throw SealError("input", "This file's password salt is damaged.");
    }
  }

  // ikm (b64u) from a file's secret (16 bytes, bytes or b64u), and with a
  // `kdf` (the seal's, or the share's answer's) its password.
  function ikmFrom(secret, password, kdf) {
    return Promise.resolve().then(function () {
      var secretBytes = asBytes(secret);
      if (secretBytes.length !== 16) {
        throw SealError("input", "A secret is 16 bytes.");
      }
      if (!kdf) {
        return toB64u(secretBytes);
      }
      checkKdf(kdf);
      if (typeof password !== "string" || password === "") {
        throw SealError("input", "This file needs its password.");
      }
      return subtle
        .importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"])
        .then(function (key) {
          return subtle.deriveBits(
            { name: "PBKDF2", hash: "SHA-256", salt: fromB64u(kdf.salt), iterations: kdf.iterations },
            key,
            256
          );
        })
        .then(function (stretched) { return toB64u(concat(secretBytes, new Uint8Array(stretched))); });
    });
  }

  // The four keys' bytes (for the vectors and the seal's `auth`).
  function deriveKeyBytes(ikm) {
    return subtle.importKey("raw", asBytes(ikm), "HKDF", false, ["deriveBits"]).then(function (base) {
      return Promise.all([
        hkdf(base, "content key", 16),
        hkdf(base, "content nonce", 12),
        hkdf(base, "metadata key", 16),
        hkdf(base, "auth key", 32),
      ]).then(function (parts) {
        return { content: parts[0], nonce: parts[1], metadata: parts[2], auth: parts[3] };
      });
    });
  }

  // CryptoKeys (not extractable) from those bytes: what everything else takes.
  // `keys.nonce` stays bytes; `keys.content` can be posted to a worker.
  function importKeys(bytes) {
    return Promise.all([
      subtle.importKey("raw", bytes.content, "AES-GCM", false, ["encrypt", "decrypt"]),
      subtle.importKey("raw", bytes.metadata, "AES-GCM", false, ["encrypt", "decrypt"]),
      subtle.importKey("raw", bytes.auth, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
    ]).then(function (keys) {
      return { content: keys[0], nonce: new Uint8Array(bytes.nonce), metadata: keys[1], auth: keys[2] };
    });
  }

  var keyCache = new Map();
  var KEY_CACHE_SIZE = 16;

  // The keys for `ikm` (b64u or bytes), derived and imported once per ikm.
  function deriveKeys(ikm) {
    var id = typeof ikm === "string" ? ikm : toB64u(ikm);
    var cached = keyCache.get(id);
    if (!cached) {
      cached = deriveKeyBytes(id).then(importKeys);
      cached.catch(function () { keyCache.delete(id); });
      if (keyCache.size >= KEY_CACHE_SIZE) {
        keyCache.delete(keyCache.keys().next().value);
      }
      keyCache.set(id, cached);
    }
    return cached;
  }

  // ---- Records --------------------------------------------------------------

  // nonce_i = content nonce XOR (00 00 00 || be64(i) || final flag).
  function recordNonce(base, index, last) {
    var nonce = new Uint8Array(base);
    var high = Math.floor(index / 4294967296);
    var low = index >>> 0;
    nonce[3] ^= high >>> 24;
    nonce[4] ^= (high >>> 16) & 255;
    nonce[5] ^= (high >>> 8) & 255;
    nonce[6] ^= high & 255;
    nonce[7] ^= low >>> 24;
    nonce[8] ^= (low >>> 16) & 255;
    nonce[9] ^= (low >>> 8) & 255;
    nonce[10] ^= low & 255;
    if (last) {
      nonce[11] ^= 1;
    }
    return nonce;
  }

  function encryptRecord(keys, index, last, plaintext) {
    return subtle.encrypt({ name: "AES-GCM", iv: recordNonce(keys.nonce, index, last) }, keys.content, plaintext);
  }

  function decryptRecord(keys, index, last, record) {
    return subtle.decrypt({ name: "AES-GCM", iv: recordNonce(keys.nonce, index, last) }, keys.content, record);
  }

  // The records `firstRecord`, `firstRecord + 1`, … of a file of
  // `totalRecords` records, from their plaintext in `blob` (every record
  // 65,536 bytes but the file's last). All encrypted at once; same input,
  // same bytes.
  function sealRecordsHere(ikm, blob, firstRecord, totalRecords) {
    return Promise.resolve().then(function () {
      if (!Number.isSafeInteger(firstRecord) || !Number.isSafeInteger(totalRecords) ||
          firstRecord < 0 || totalRecords < 1 || firstRecord >= totalRecords) {
        throw SealError("input", "Records out of range.");
      }
      var count = Math.max(1, Math.ceil(blob.size / RECORD_SIZE));
      var end = firstRecord + count;
      var endsTheFile = end === totalRecords;
      var whole = blob.size === count * RECORD_SIZE;
      if (end > totalRecords || (!endsTheFile && !whole) || (blob.size === 0 && totalRecords !== 1)) {
        throw SealError("input", "The bytes given are not whole records of this file.");
      }
      return Promise.all([deriveKeys(ikm), blob.arrayBuffer()]).then(function (both) {
        var keys = both[0];
        var buffer = both[1];
        var sealed = [];
        for (var r = 0; r < count; r++) {
          var index = firstRecord + r;
          var plain = new Uint8Array(buffer, r * RECORD_SIZE, Math.min(RECORD_SIZE, buffer.byteLength - r * RECORD_SIZE));
          sealed.push(encryptRecord(keys, index, index === totalRecords - 1, plain));
        }
        return Promise.all(sealed).then(function (records) {
          return new Blob(records, { type: "application/octet-stream" });
        });
      });
    });
  }

  // On a page, the records are sealed in a dedicated worker (/seal-worker.js,
  // started on the first call), so the page's thread, which sends the parts,
  // is not also the one that reads and seals them. Where there is no worker
  // (node, a service worker, a worker that does not start), here.
  var SEAL_WORKER_URL = "/seal-worker.js";
  var sealWorker = null; // null: not tried; false: none
  var sealJobs = new Map();
  var nextSealJob = 1;

  function sealingWorker() {
    if (sealWorker !== null) {
      return sealWorker;
    }
    sealWorker = false;
    if (typeof Worker !== "function" || typeof document === "undefined") {
      return sealWorker;
    }
    var started;
    try {
      started = new Worker(SEAL_WORKER_URL);
    } catch (error) {
      return sealWorker;
    }
    started.onmessage = function (event) {
      var answer = event.data || {};
      var job = sealJobs.get(answer.id);
      if (!job) {
        return;
      }
      sealJobs.delete(answer.id);
      if (answer.error) {
        var error = answer.error.name === "SealError"
          ? SealError(answer.error.code, answer.error.message)
          : new Error(answer.error.message);
        job.reject(error);
      } else {
        job.resolve(answer.blob);
      }
    };
    // The worker did not load (or broke): what it had, and all that
    // follows, is sealed here.
    started.onerror = function (event) {
      if (event && event.preventDefault) {
        event.preventDefault();
      }
      sealWorker = false;
      started.terminate();
      var waiting = Array.from(sealJobs.values());
      sealJobs.clear();
      waiting.forEach(function (job) { job.here(); });
    };
    sealWorker = started;
    return sealWorker;
  }

  // The records `firstRecord`, `firstRecord + 1`, … of a file of
  // `totalRecords` records, from their plaintext in `blob`, as a Blob (see
  // sealRecordsHere); in the page's sealing worker where there is one.
  function sealRecords(ikm, blob, firstRecord, totalRecords) {
    var worker = sealingWorker();
    if (!worker) {
      return sealRecordsHere(ikm, blob, firstRecord, totalRecords);
    }
    return new Promise(function (resolve, reject) {
      var id = nextSealJob++;
      sealJobs.set(id, {
        resolve: resolve,
        reject: reject,
        here: function () {
          sealRecordsHere(ikm, blob, firstRecord, totalRecords).then(resolve, reject);
        },
      });
      worker.postMessage({ type: "courier-seal-records", id: id, ikm: ikm, blob: blob, first: firstRecord, total: totalRecords });
    });
  }

  // ---- Metadata and the seal ------------------------------------------------

  // The metadata's JSON padded with spaces to a multiple of 256 bytes.
  function metadataBytes(meta) {
    var json = encoder.encode(JSON.stringify({ name: meta.name, type: meta.type, size: meta.size }));
    var padded = new Uint8Array(Math.ceil(json.length / METADATA_PADDING) * METADATA_PADDING || METADATA_PADDING);
    padded.fill(0x20);
    padded.set(json, 0);
    return padded;
  }

  // b64u(iv || AES-128-GCM(metadata key, iv, padded JSON)); `iv` fresh unless given (vectors).
  function sealMetadata(keys, meta, iv) {
    var nonce = iv ? asBytes(iv) : randomBytes(12);
    return subtle
      .encrypt({ name: "AES-GCM", iv: nonce }, keys.metadata, metadataBytes(meta))
      .then(function (sealed) { return toB64u(concat(nonce, new Uint8Array(sealed))); });
  }

  // {name, type, size} from sealed metadata; a SealError "key" when it does
  // not open (a wrong key or password), "damaged" when it opens to nonsense.
  function openMetadata(keys, sealed) {
    return Promise.resolve().then(function () {
      var bytes = asBytes(sealed);
      if (bytes.length < 12 + TAG_SIZE) {
        throw SealError("damaged", "The file's details are damaged.");
      }
      return subtle
        .decrypt({ name: "AES-GCM", iv: bytes.subarray(0, 12) }, keys.metadata, bytes.subarray(12))
        .then(
          function (plain) {
            var meta;
            try {
              meta = JSON.parse(decoder.decode(plain));
            } catch (error) {
              throw SealError("damaged", "The file's details are damaged.");
            }
            if (!meta || typeof meta.name !== "string" || typeof meta.size !== "number" ||
                !Number.isSafeInteger(meta.size) || meta.size < 0) {
              throw SealError("damaged", "The file's details are damaged.");
            }
            return { name: meta.name, type: typeof meta.type === "string" ? meta.type : "", size: meta.size };
          },
          function () {
            throw SealError("key", "The file's details do not open with this key.");
          }
        );
    });
  }

  function kdfFor(salt, iterations) {
    return { name: "PBKDF2-SHA256", salt: toB64u(salt), iterations: iterations || PBKDF2_ITERATIONS };
  }

  // What the uploader calls for each file it encrypts: a fresh secret (and
  // salt with a password), the ikm its records are sealed with, the seal.
  // `fixed` ({secret, salt, iterations, iv}) is for the known-answer tests only.
  function begin(file, fixed) {
    return Promise.resolve().then(function () {
      fixed = fixed || {};
      // Lone surrogates (possible in Windows names) would not survive JSON.
      var raw = String(file.name == null ? "" : file.name);
      var name = shortName(typeof raw.toWellFormed === "function" ? raw.toWellFormed() : raw);
      var type = String(file.type == null ? "" : file.type);
      if (encoder.encode(type).length > MAX_TYPE_BYTES) {
        type = "";
      }
      checkSize(file.size, "size");
      var secret = fixed.secret ? asBytes(fixed.secret) : randomBytes(16);
      var password = typeof file.password === "string" && file.password !== "" ? file.password : null;
      var kdf = password ? kdfFor(fixed.salt ? asBytes(fixed.salt) : randomBytes(16), fixed.iterations) : null;
      return ikmFrom(secret, password, kdf).then(function (ikm) {
        return deriveKeyBytes(ikm).then(function (bytes) {
          return importKeys(bytes).then(function (keys) {
            return sealMetadata(keys, { name: name, type: type, size: file.size }, fixed.iv).then(function (meta) {
              var seal = toB64u(encoder.encode(JSON.stringify({ v: 1, auth: toB64u(bytes.auth), meta: meta, kdf: kdf })));
              // What Courier keeps with the object must fit S3's 2 KB of metadata.
              if (seal.length > MAX_SEAL_LENGTH) {
                throw SealError("input", "The file's name is too long to encrypt: rename it shorter and send it again.");
              }
              return { secret: toB64u(secret), ikm: ikm, seal: seal };
            });
          });
        });
      });
    });
  }

  // `name` cut to MAX_NAME_BYTES of UTF-8, whole characters only, keeping
  // an extension of up to 16 bytes (as courier-format's short_name).
  function shortName(name) {
    if (encoder.encode(name).length <= MAX_NAME_BYTES) {
      return name;
    }
    var dot = name.lastIndexOf(".");
    var extension = dot > 0 && encoder.encode(name.slice(dot)).length <= 16 ? name.slice(dot) : "";
    var stem = Array.from(name.slice(0, name.length - extension.length));
    var room = MAX_NAME_BYTES - encoder.encode(extension).length;
    var kept = "";
    for (var i = 0; i < stem.length; i++) {
      if (encoder.encode(kept + stem[i]).length > room) {
        break;
      }
      kept += stem[i];
    }
    return kept + extension;
  }

  // The seal's JSON from its b64u.
  function openSeal(seal) {
    return JSON.parse(decoder.decode(fromB64u(seal)));
  }

  // b64u(HMAC-SHA256(auth key, nonce)): what proves the key to Courier.
  function proof(keys, nonce) {
    return subtle
      .sign("HMAC", keys.auth, encoder.encode(nonce))
      .then(function (mac) { return toB64u(new Uint8Array(mac)); });
  }

  // ---- Reading an object ----------------------------------------------------

  // A TransformStream from the object's bytes (chunks of any size) to the
  // file's. It knows the last record when the stream ends; it errors (a
  // SealError) on a record that does not open, an object cut short, or a
  // file of another size than `size` (the metadata's). `options.onProgress`
  // (plaintext bytes so far) is called as records open.
  function decryptor(keys, size, options) {
    checkSize(size, "size");
    var onProgress = options && options.onProgress;
    // A stream the browser writes itself (a download) takes records as they
    // come: joining them would only make more garbage.
    var outputChunk = options && typeof options.outputChunk === "number" ? options.outputChunk : OUTPUT_CHUNK;
    var chunks = [];
    var first = 0; // chunks before it are used up
    var buffered = 0;
    var index = 0; // the next record to start
    var opened = 0; // plaintext bytes started so far (checked against size)
    var done = 0; // plaintext bytes handed on
    var pending = []; // records being opened, in order

    // `length` bytes from the front of the buffered chunks, in one array.
    // (`first` instead of shift(): tiny chunks stay linear.)
    // Whole records are read into one buffer, used again for each: WebCrypto
    // copies what it is given before `decrypt` returns, and a download of
    // gigabytes would otherwise leave a record's worth of garbage per record.
    var scratch = new Uint8Array(SEALED_RECORD_SIZE);
    function take(length) {
      var out = length === SEALED_RECORD_SIZE ? scratch : new Uint8Array(length);
      var filled = 0;
      while (filled < length) {
        var head = chunks[first];
        var wanted = length - filled;
        if (head.length <= wanted) {
          out.set(head, filled);
          filled += head.length;
          chunks[first++] = null;
        } else {
          out.set(head.subarray(0, wanted), filled);
          chunks[first] = head.subarray(wanted);
          filled += wanted;
        }
      }
      if (first > 1024 && first * 2 > chunks.length) {
        chunks = chunks.slice(first);
        first = 0;
      }
      buffered -= length;
      return out;
    }

    function start(record, last) {
      var at = index++;
      var plainLength = record.length - TAG_SIZE;
      opened += plainLength;
      if (opened > size) {
        throw SealError("size", "The file is larger than its details say.");
      }
      var opening = decryptRecord(keys, at, last, record).then(
        function (plain) { return new Uint8Array(plain); },
        function () {
          if (!last) {
            throw SealError("damaged", "The file is damaged: part of it does not decrypt.");
          }
          // A last record sealed as not final: the object was cut at a record boundary.
          return decryptRecord(keys, at, false, record).then(
            function () { throw SealError("truncated", "The file is incomplete: its end is missing."); },
            function () { throw SealError("damaged", "The file is damaged: part of it does not decrypt."); }
          );
        }
      );
      opening.catch(function () {});
      pending.push(opening);
    }

    // Opened records are handed on OUTPUT_CHUNK at a time: a file written
    // 64 KiB a write is several times slower than 1 MiB a write.
    var batch = [];
    var batchBytes = 0;

    function emit(controller) {
      if (batch.length === 0) {
        return;
      }
      var out = batch[0];
      if (batch.length > 1) {
        out = new Uint8Array(batchBytes);
        for (var i = 0, at = 0; i < batch.length; at += batch[i].length, i++) {
          out.set(batch[i], at);
        }
      }
      batch = [];
      batchBytes = 0;
      done += out.length;
      controller.enqueue(out);
      if (onProgress) {
        onProgress(done);
      }
    }

    function handOn(controller) {
      return pending.shift().then(function (plain) {
        batch.push(plain);
        batchBytes += plain.length;
        if (batchBytes >= outputChunk) {
          emit(controller);
        }
      });
    }

    function drain(controller, keep) {
      if (pending.length <= keep) {
        if (keep === 0) {
          emit(controller);
        }
        return Promise.resolve();
      }
      return handOn(controller).then(function () { return drain(controller, keep); });
    }

    return new TransformStream({
      transform: function (chunk, controller) {
        var bytes = asBytes(chunk);
        if (bytes.length === 0) {
          return undefined;
        }
        chunks.push(bytes);
        buffered += bytes.length;
        // A whole record with bytes after it is not the last one.
        while (buffered > SEALED_RECORD_SIZE) {
          start(take(SEALED_RECORD_SIZE), false);
        }
        return drain(controller, DECRYPT_WINDOW);
      },
      flush: function (controller) {
        var left = buffered;
        if (left <= TAG_SIZE && !(index === 0 && left === TAG_SIZE)) {
          // Nothing, or too short for a tag and a byte: the object was cut.
          return drain(controller, 0).then(function () {
            throw SealError("truncated", "The file is incomplete: its end is missing.");
          });
        }
        start(take(left), true);
        return drain(controller, 0).then(function () {
          if (done !== size) {
            throw SealError("size", "The file is not the size its details say.");
          }
        });
      },
    }, QUEUE, QUEUE);
  }

  // WebCrypto's answers (a new ArrayBuffer per record) are freed only by a
  // full garbage collection, which Chromium's V8 starts once its count of
  // external memory has grown by about 64 MiB, and which frees them some
  // time after. An ArrayBuffer this large, never written and let go at once,
  // is counted as external memory and makes V8 collect then; its pages are
  // never touched, so it costs no memory (a mapping made and unmade). With
  // it, a 4 GiB download's tab peaked at 92-105 MiB; without it, at
  // 156-168 MiB (issue 29; bench/memory-dump.mjs shows where the memory
  // is). A bigger nudge (256 MiB) did no better. Not where openObject lets
  // go of what it hands on (readerCopies: WebKit, Firefox), which leaves a
  // collection nothing large to free: in WebKit, in eight 4 GiB downloads
  // side by side, the nudged ones went over 200 MiB for a moment in four
  // (216-255 MiB), the others in none (192-195).
  var COLLECT_EVERY = 128; // records: 8 MiB of the file
  var NUDGE_BYTES = 64 * 1024 * 1024;
  var nudging = true;

  function collectSoon() {
    if (!nudging) {
      return;
    }
    try {
      var nudge = new ArrayBuffer(NUDGE_BYTES);
      if (typeof nudge.transfer === "function") {
        nudge.transfer(0);
      }
    } catch (error) {
      nudging = false;
    }
  }

  // Resolves after the pause RETRY_PAUSES_MS[tries] when `error` is what
  // the network did (never a refusal, nor a record that does not open) and
  // pauses are left; rejects with `error` otherwise.
  function pauseAfter(error, tries) {
    var broken = error && (error.code === "network" || (!error.code && error.name === "TypeError"));
    if (!broken || tries >= RETRY_PAUSES_MS.length) {
      return Promise.reject(error);
    }
    return new Promise(function (resolve) { setTimeout(resolve, RETRY_PAUSES_MS[tries]); });
  }

  // A chunk no one will read again: its memory goes back now rather than
  // at the next full collection (detaching a buffer frees it at once in
  // JavaScriptCore and SpiderMonkey; not in Chromium, whose own objects may
  // still hold it). A chunk a default reader gave, once copied out
  // (WebKit's fetch bodies are such chunks, new memory each); one handed
  // on, once a reader that copies has taken it (readerCopies). Only a chunk
  // that is its whole buffer: another view of the buffer may be unread.
  // In WebKit, a 4 GiB download's web process then held 177-181 MiB on
  // average rather than 199-202, three rounds side by side; in Firefox it
  // peaked at 38 MiB rather than 251-267 (issue 29).
  function letGo(chunk) {
    if (!chunk || chunk.byteOffset !== 0 || chunk.byteLength !== chunk.buffer.byteLength
        || typeof chunk.buffer.transfer !== "function") {
      return;
    }
    try {
      chunk.buffer.transfer(0);
    } catch (error) {
      // Not detachable (a WebAssembly memory, say): the collector frees it.
    }
  }

  // The file's bytes, as a ReadableStream, from `body`, the object's: a
  // fetch's body, any ReadableStream of bytes, or a source of its pieces in
  // order (`open(position)`, a promise of a stream of the object from
  // `position`, or of null at its end; optionally `resumable()`, true when
  // a piece the network broke may be asked for again from where it broke,
  // and `close()`), as storeRanges makes. Checks as `decryptor` does,
  // erroring the stream with a SealError. Made for gigabytes: it reads into
  // one buffer of READ_RECORDS records, used again for each (through a BYOB
  // reader where the body is a byte stream, as a fetch's is), and hands on each
  // record as WebCrypto opens it, at most DECRYPT_WINDOW in flight; the only
  // new buffers are WebCrypto's answers, the chunks it hands on. (Every
  // buffer that passes through the page is freed only by a full collection
  // unless it is let go (letGo): the fewer, the less memory waits for one.)
  // `options.onProgress` (plaintext bytes so far) is called as records are
  // handed on;
  // `options.onEnd(how, error)` once, when the stream ends: "done",
  // "error" (with the error) or "cancelled" (by its reader), so that a
  // reader that only passes the stream on (a Response) can still say how.
  // `options.readerCopies`: the stream's reader copies each chunk as it
  // takes it (readerCopiesHere), so each chunk's memory is let go once
  // taken, instead of at the next full collection.
  function openObject(body, keys, size, options) {
    checkSize(size, "size");
    var onProgress = options && options.onProgress;
    var onEnd = options && options.onEnd;
    var readerCopies = Boolean(options && options.readerCopies);
    var ending = false;
    function end(how, error) {
      if (!ending && onEnd) {
        ending = true;
        onEnd(how, error);
      }
    }
    var source = typeof body.getReader === "function" ? oneBody(body) : body;
    var reader = null; // the current piece's, null between pieces
    var byob = false;
    var position = 0; // bytes of the object read so far
    var retries = 0;
    var buffer = new Uint8Array(READ_RECORDS * SEALED_RECORD_SIZE);
    var filled = 0; // bytes read into `buffer`
    var head = 0; // where in it the next record starts
    var rest = null; // a default reader's chunk, what did not fit yet
    var restChunk = null; // that chunk whole, to let go once copied out
    var ended = false;

    // The next piece of the object, from `position`; none: the object ended.
    function openPiece() {
      return Promise.resolve(source.open(position)).then(function (piece) {
        if (!piece) {
          ended = true;
          return;
        }
        try {
          reader = piece.getReader({ mode: "byob" });
          byob = true;
        } catch (error) {
          reader = piece.getReader();
          byob = false;
        }
      });
    }

    // A broken read: from a source that can, the object is asked for again
    // from the first byte no record has started with, after a pause, into
    // a new buffer (a failed BYOB read does not give back the one it was lent).
    function retryRead(error) {
      return pause(error).then(function () {
        if (reader) {
          reader.cancel().catch(function () {});
          reader = null;
        }
        position -= filled - head + (rest ? rest.length : 0);
        buffer = new Uint8Array(READ_RECORDS * SEALED_RECORD_SIZE);
        filled = 0;
        head = 0;
        rest = null;
      });
    }

    // pauseAfter, for a source that can be asked again; the pauses count
    // from the last byte read.
    function pause(error) {
      if (!source.resumable || !source.resumable()) {
        return Promise.reject(error);
      }
      return pauseAfter(error, retries++);
    }
    var last = false; // the last record has started
    var index = 0;
    var opened = 0;
    var done = 0;
    var pending = [];
    var handedOn = 0;

    // One read from the body into `buffer`'s free end.
    function read() {
      // The records started are done with: their room goes to the read.
      if (head > 0) {
        buffer.copyWithin(0, head, filled);
        filled -= head;
        head = 0;
      }
      if (rest) {
        var fits = Math.min(rest.length, buffer.length - filled);
        buffer.set(rest.subarray(0, fits), filled);
        filled += fits;
        rest = fits < rest.length ? rest.subarray(fits) : null;
        if (!rest) {
          letGo(restChunk);
          restChunk = null;
        }
        return Promise.resolve();
      }
      if (!reader) {
        // A piece the network did not open: asked for again after a pause.
        return openPiece().catch(pause);
      }
      if (byob) {
        return reader.read(new Uint8Array(buffer.buffer, filled, buffer.length - filled)).then(function (step) {
          if (step.value) {
            // The same memory, given back under a new ArrayBuffer.
            buffer = new Uint8Array(step.value.buffer);
            filled += step.value.byteLength;
            position += step.value.byteLength;
            retries = step.value.byteLength > 0 ? 0 : retries;
          }
          if (step.done) {
            reader = null;
          }
        }, retryRead);
      }
      return reader.read().then(function (step) {
        if (step.done) {
          reader = null;
        } else {
          rest = asBytes(step.value);
          restChunk = rest;
          position += rest.length;
          retries = rest.length > 0 ? 0 : retries;
        }
      }, retryRead);
    }

    function start(length, isLast) {
      var at = index++;
      var plainLength = length - TAG_SIZE;
      opened += plainLength;
      if (opened > size) {
        throw SealError("size", "The file is larger than its details say.");
      }
      // WebCrypto copies its input before decrypt returns: `buffer` is free again.
      var record = buffer.subarray(head, head + length);
      var opening = decryptRecord(keys, at, isLast, record);
      var copy = isLast ? record.slice() : null;
      opening = opening.then(
        function (plain) { return new Uint8Array(plain); },
        function () {
          if (!isLast) {
            throw SealError("damaged", "The file is damaged: part of it does not decrypt.");
          }
          // A last record sealed as not final: the object was cut at a record boundary.
          return decryptRecord(keys, at, false, copy).then(
            function () { throw SealError("truncated", "The file is incomplete: its end is missing."); },
            function () { throw SealError("damaged", "The file is damaged: part of it does not decrypt."); }
          );
        }
      );
      opening.catch(function () {});
      pending.push(opening);
      head += length;
    }

    // Starts records until DECRYPT_WINDOW are in flight or the object ends.
    function fillWindow() {
      if (last || pending.length >= DECRYPT_WINDOW) {
        return Promise.resolve();
      }
      // A whole record with bytes after it is not the last one.
      if (filled - head > SEALED_RECORD_SIZE) {
        start(SEALED_RECORD_SIZE, false);
        return fillWindow();
      }
      if (!ended && (filled - head < buffer.length || rest)) {
        return read().then(fillWindow);
      }
      if (!ended) {
        return Promise.resolve();
      }
      last = true;
      if (filled - head <= TAG_SIZE && !(index === 0 && filled - head === TAG_SIZE)) {
        // Nothing, or too short for a tag and a byte: the object was cut.
        pending.push(Promise.reject(SealError("truncated", "The file is incomplete: its end is missing.")));
        pending[pending.length - 1].catch(function () {});
        return Promise.resolve();
      }
      start(filled - head, true);
      return Promise.resolve();
    }

    // One fill at a time (it owns `buffer` and the reader); a pull hands on
    // the oldest record without waiting for it, so the network, WebCrypto
    // and the reader downstream all work at once.
    var filling = null;
    var failure = null;
    function fill() {
      if (!filling) {
        filling = fillWindow().then(
          function () { filling = null; },
          function (error) {
            filling = null;
            failure = failure || error;
          }
        );
      }
      return filling;
    }

    function stop(reason) {
      var stopping = reader ? reader.cancel(reason) : Promise.resolve();
      reader = null;
      if (source.close) {
        source.close();
      }
      return stopping;
    }

    function fail(controller, error) {
      controller.error(error);
      stop(error).catch(function () {});
      end("error", error);
    }

    // With readerCopies, the chunks handed on and not yet let go, oldest first.
    var handed = [];
    return new ReadableStream({
      pull: function (controller) {
        // The queue holds the newest chunks (one each in its count); the
        // reader has taken, and copied, those before them, but for the last
        // one: a read takes a chunk and asks for the next (this pull) before
        // it gives it to its reader (Streams, "ReadableStreamDefaultController
        // [[PullSteps]]"), which it does before this pull ends.
        var queued = QUEUE.highWaterMark - controller.desiredSize;
        while (handed.length > queued + 1) {
          letGo(handed.shift());
        }
        var refilled = fill();
        var ready = pending.length > 0 ? Promise.resolve() : refilled;
        return ready.then(function () {
          if (pending.length === 0) {
            if (failure) {
              throw failure;
            }
            if (done !== size) {
              throw SealError("size", "The file is not the size its details say.");
            }
            controller.close();
            end("done");
            return undefined;
          }
          return pending.shift().then(function (plain) {
            done += plain.length;
            controller.enqueue(plain);
            if (readerCopies) {
              handed.push(plain);
            }
            handedOn += 1;
            if (!readerCopies && handedOn % COLLECT_EVERY === 0) {
              collectSoon();
            }
            if (onProgress) {
              onProgress(done);
            }
          });
        }).catch(function (error) {
          fail(controller, error);
        });
      },
      cancel: function (reason) {
        end("cancelled");
        return stop(reason);
      },
    }, { highWaterMark: QUEUE.highWaterMark });
  }

  // openObject's source for an object given whole, as one stream.
  function oneBody(body) {
    var given = false;
    return {
      open: function () {
        var piece = given ? null : body;
        given = true;
        return piece;
      },
    };
  }

  // The range size storeRanges asks for here. Where a fetch's body is a
  // byte stream (Chromium, Firefox), openObject reads it into its own
  // buffer and the browser holds back what is not read yet: RANGE_BYTES
  // keeps the requests few (in Chromium, 4 MiB ranges ran 20% slower and
  // held no less). Where it is not (WebKit), the browser reads each range
  // ahead into chunks of its own, new memory that waits for its collector:
  // in three rounds side by side, 4 MiB ranges held a 4 GiB download's
  // web process to 212-303 MiB (median 268), against 324-351 (342) with
  // 16 MiB; a 1 GiB one to 207-224 against 322-333, at 96-115 MB/s
  // against 118-142, still faster than WebKit's own download of the plain
  // file in the same rounds, 93-102 MB/s (issue 29).
  function rangeBytesHere() {
    return bodiesAreByteStreams() ? RANGE_BYTES : UNREAD_RANGE_BYTES;
  }

  function bodiesAreByteStreams() {
    try {
      new Response(new Uint8Array(1)).body.getReader({ mode: "byob" }).releaseLock();
      return true;
    } catch (error) {
      return false;
    }
  }

  // Whether a Response's body, read by the browser (a service worker's
  // answer), is copied chunk by chunk as it is read, and a chunk let go is
  // then freed at once: openObject's `readerCopies`. Where a fetch's body is
  // no byte stream (WebKit), the browser's reader of a Response copies each
  // chunk before it asks for the next (WebKitGTK 2.50; the WebKit tests
  // compare every byte saved). So does Gecko's (FetchStreamReader's chunk
  // steps copy each chunk into a buffer of their own before writing it on):
  // there a 4 GiB download's content process peaked at 38 MiB with it,
  // 251-267 without, side by side (issue 29). Not Chromium's, which reads
  // each chunk in place: there a detached chunk's memory waits for the
  // collector all the same, and without the nudge a 1 GiB download's
  // renderers held 1,150 MiB, against 89 with it. Only where a buffer can
  // be let go at all (ArrayBuffer's transfer: Safari 17.4, Firefox 122):
  // elsewhere the chunks wait for the collector, and the nudge stays.
  function readerCopiesHere() {
    return typeof ArrayBuffer.prototype.transfer === "function"
      && (!bodiesAreByteStreams() || geckoHere());
  }

  // Firefox's engine, by its JavaScript engine's own mark (errors know their
  // file: SpiderMonkey's `fileName`), which no user agent string can fake.
  function geckoHere() {
    return typeof new Error().fileName === "string";
  }

  // openObject's source for the object at `url` (presigned GET, `size`
  // bytes): fetched rangeBytesHere() (or `options.rangeBytes`) at a time,
  // each range asked for as soon as the one before it answers, so that the
  // network never waits on the page and the page never holds more than two
  // ranges of ciphertext. (WebKit reads a fetch's body as fast as the
  // network gives it, whatever its reader takes: a 4 GiB file fetched whole
  // held 4.4 GiB, issue 29.) A broken range is asked for again from where
  // it broke (openObject's retries). `options.renew()`, a promise of a new
  // URL, is asked for when the store refuses the URL (403: it lasts a
  // minute) or no longer has the object (404: its share was revoked), once
  // per range.
  // A store that ignores Range (200) gives the whole object at once.
  function storeRanges(url, size, options) {
    var renew = options && options.renew;
    var rangeBytes = (options && options.rangeBytes) || rangeBytesHere();
    var ahead = null; // {start, answer}: the next range, asked for already
    var whole = false; // the store answered with the whole object
    var closed = false;

    function get(start, renewed) {
      var last = Math.min(size, start + rangeBytes) - 1;
      return fetch(url, {
        mode: "cors",
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
        headers: { Range: "bytes=" + start + "-" + last },
      }).then(
        function (response) {
          if (response.status === 206 && response.body) {
            return { body: response.body, next: last + 1 };
          }
          if (response.status === 200 && start === 0 && response.body) {
            whole = true;
            return { body: response.body, next: size };
          }
          if (response.body) {
            response.body.cancel().catch(function () {});
          }
          if (response.status === 416) {
            // Shorter than its record says: openObject finds it cut.
            return { body: null, next: size };
          }
          // 403: the URL has expired. 404: the object is gone, as when its
          // sender revoked the share; Courier then says why.
          if ((response.status === 403 || response.status === 404) && renew && !renewed) {
            return renew().then(function (fresh) {
              url = fresh;
              return get(start, true);
            });
          }
          var refused = SealError("store", "The store refused the file (HTTP " + response.status + ").");
          refused.detail = String(response.status);
          throw refused;
        },
        function () {
          throw SealError("network", "The connection to the store broke.");
        }
      );
    }

    function drop(range) {
      range.answer.then(function (got) {
        if (got && got.body) {
          got.body.cancel().catch(function () {});
        }
      }, function () {});
    }

    return {
      resumable: function () { return !whole; },
      // Resolves once the store has answered for the first range (so that
      // a refusal is known before anything is saved); open(0) takes it. A
      // connection that breaks before it answers is asked again after each
      // pause (pauseAfter), as openObject asks again for later ranges.
      ready: function () {
        var tries = 0;
        function first() {
          if (!ahead) {
            ahead = { start: 0, answer: get(0, false) };
            ahead.answer.catch(function () {});
          }
          return ahead.answer.then(function () {}, function (error) {
            ahead = null;
            return pauseAfter(error, tries++).then(first);
          });
        }
        return first();
      },
      open: function (position) {
        if (closed || position >= size) {
          return Promise.resolve(null);
        }
        var answer;
        if (ahead && ahead.start === position) {
          answer = ahead.answer;
        } else if (whole) {
          // Everything came in the first answer.
          return Promise.resolve(null);
        } else {
          if (ahead) {
            drop(ahead);
          }
          answer = get(position, false);
        }
        ahead = null;
        return answer.then(function (got) {
          if (!closed && got.next < size) {
            ahead = { start: got.next, answer: get(got.next, false) };
            ahead.answer.catch(function () {});
          }
          return got.body;
        });
      },
      close: function () {
        closed = true;
        if (ahead) {
          drop(ahead);
          ahead = null;
        }
      },
    };
  }

  // storeRanges' `renew` for the share page's download: asks Courier for a
  // new URL of the object (POST `renew.path` with {"renew": token}). A
  // refusal is a SealError "refused" with Courier's sentence as its detail.
  // Null when there is nothing to renew with.
  function renewer(renew) {
    if (!renew || !renew.path || !renew.token) {
      return null;
    }
    return function () {
      return fetch(renew.path, {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ renew: renew.token }),
      }).then(
        function (response) {
          return response.json().then(null, function () { return null; }).then(function (body) {
            if (response.ok && body && typeof body.url === "string") {
              return body.url;
            }
            var refused = SealError("refused", body && typeof body.error === "string"
              ? body.error
              : "Courier refused to go on with the download (HTTP " + response.status + ").");
            refused.detail = refused.message;
            throw refused;
          });
        },
        function () {
          throw SealError("network", "Courier could not be reached.");
        }
      );
    };
  }

  var api = {
    version: 1,
    RECORD_SIZE: RECORD_SIZE,
    TAG_SIZE: TAG_SIZE,
    SEALED_RECORD_SIZE: SEALED_RECORD_SIZE,
    PBKDF2_ITERATIONS: PBKDF2_ITERATIONS,
    // sizes
    recordCount: recordCount,
    objectSize: objectSize,
    plainSize: plainSize,
    partSize: partSize,
    // uploading
    begin: begin,
    shortName: shortName,
    sealRecords: sealRecords,
    sealRecordsHere: sealRecordsHere,
    // keys
    ikmFrom: ikmFrom,
    deriveKeyBytes: deriveKeyBytes,
    importKeys: importKeys,
    deriveKeys: deriveKeys,
    recordNonce: recordNonce,
    // metadata, seal, proof
    sealMetadata: sealMetadata,
    openMetadata: openMetadata,
    openSeal: openSeal,
    proof: proof,
    // downloading
    decryptor: decryptor,
    openObject: openObject,
    storeRanges: storeRanges,
    rangeBytesHere: rangeBytesHere,
    readerCopiesHere: readerCopiesHere,
    renewer: renewer,
    // helpers
    SealError: SealError,
    toB64u: toB64u,
    fromB64u: fromB64u,
    hex: hex,
  };
  root.courierSeal = api;
  if (typeof module === "object" && module && module.exports) {
    module.exports = api;
  }
})(typeof globalThis !== "undefined" ? globalThis : self);

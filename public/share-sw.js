// Courier's share page, encrypted shares: the service worker that saves a
// decrypted file where the browser has no save-file picker.
//
// The page (/share-e2e.js) proves the key, gets the store's URL, and posts
// this worker a job over a MessageChannel: the URL and what renews it, the
// file's content key (a CryptoKey, not extractable) and nonce, its size and
// name. The worker answers with a one-time address under /s/, which the
// page opens in a hidden frame; the worker answers that navigation with the
// plaintext as an attachment, fetched in ranges and decrypted as it
// streams, so the file is never whole in memory (seal.js's storeRanges and
// openObject). A record that does not open errors the stream: the browser
// marks the download failed, and the page is told why. Every other request
// under /s/ goes to the network untouched.
//
// Scope /s/ (registered from /share-sw.js). The link's key never comes here:
// only the content key of the one file being saved, and the token that
// renews its URL, for as long as it takes.
"use strict";

(function () {
  var url = "/seal.js";
  // Under a policy requiring Trusted Types, importScripts takes a TrustedScriptURL.
  if (self.trustedTypes && self.trustedTypes.createPolicy) {
    try {
      url = self.trustedTypes
        .createPolicy("courier-sw-import", {
          createScriptURL: function (value) {
            if (value !== "/seal.js") {
              throw new TypeError("Not Courier's script.");
            }
            return value;
          },
        })
        .createScriptURL(url);
    } catch (error) {
      url = "/seal.js";
    }
  }
  importScripts(url);
})();

var seal = self.courierSeal;
// Jobs waiting for their frame, by token; each is taken once.
var jobs = new Map();
// A job whose frame never comes is dropped (its key with it).
var JOB_TTL_MS = 60 * 1000;
var SAVE_PATH = /^\/s\/[A-Za-z0-9_-]+\/save\/([A-Za-z0-9_-]{22})$/;

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("message", function (event) {
  var data = event.data;
  var port = event.ports && event.ports[0];
  if (!data || data.type !== "courier-save" || !port) {
    return;
  }
  var token = seal.toB64u(self.crypto.getRandomValues(new Uint8Array(16)));
  var timer = setTimeout(function () {
    if (jobs.delete(token)) {
      port.postMessage({ type: "error", code: "expired" });
    }
  }, JOB_TTL_MS);
  jobs.set(token, { data: data, port: port, timer: timer });
  port.postMessage({ type: "ready", path: "/s/" + encodeURIComponent(data.share) + "/save/" + token });
});

// RFC 6266 / 5987: filename*=UTF-8''<percent-encoded>, and a plain ASCII fallback.
function disposition(name) {
  var safe = String(name || "download").replace(/[\u0000-\u001f\u007f\/\\]/g, "_");
  var ascii = safe.replace(/[^\x20-\x7e]/g, "_").replace(/["%;]/g, "_");
  var encoded = encodeURIComponent(safe).replace(/['()*]/g, function (c) {
    return "%" + c.charCodeAt(0).toString(16).toUpperCase();
  });
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return;
  }
  var match = SAVE_PATH.exec(new URL(request.url).pathname);
  if (!match) {
    return;
  }
  var job = jobs.get(match[1]);
  jobs.delete(match[1]);
  if (!job) {
    event.respondWith(new Response("This download has already started or has expired.", {
      status: 410,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    }));
    return;
  }
  clearTimeout(job.timer);
  event.respondWith(save(job));
});

function save(job) {
  var data = job.data;
  var port = job.port;
  var lastReport = 0;
  function fail(code, detail) {
    port.postMessage({ type: "error", code: code, detail: detail || "" });
  }
  var ranges = seal.storeRanges(data.url, seal.objectSize(data.size), { renew: seal.renewer(data.renew) });
  return ranges.ready().then(
    function () {
      // Each record as it opens, straight on to the download (no stream in
      // between: each one would add its own objects per record, for the
      // collector); a clean end is "done", an error says why.
      var plain = seal.openObject(ranges, data.keys, data.size, {
        // The browser reads this stream as the Response's body.
        readerCopies: seal.readerCopiesHere(),
        onProgress: function (done) {
          var now = Date.now();
          if (now - lastReport > 150 || done === data.size) {
            lastReport = now;
            port.postMessage({ type: "progress", done: done });
          }
        },
        onEnd: function (how, error) {
          if (how === "done") {
            port.postMessage({ type: "done" });
          } else if (how === "cancelled") {
            fail("cancelled");
          } else {
            fail(error && error.code ? error.code : "network", error && error.detail);
          }
        },
      });
      port.postMessage({ type: "started" });
      return new Response(plain, {
        headers: {
          "Content-Type": "application/octet-stream",
          "Content-Disposition": disposition(data.name),
          "Content-Length": String(data.size),
          "Cache-Control": "no-store",
          "X-Content-Type-Options": "nosniff",
        },
      });
    },
    function (error) {
      fail(error && error.code ? error.code : "network", error && error.detail);
      return Response.error();
    }
  );
}

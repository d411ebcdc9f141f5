// Courier's uploader seals an encrypted file's parts here, off the page's
// thread: /seal.js's `sealRecords`, on the page, posts each part's bytes (a
// Blob: a handle, nothing is copied) and gets its records back as a Blob.
// The same code seals here as on the page, so a part sealed again is the
// same bytes wherever it was sealed. Started by /seal.js the first time a
// part is sealed; the upload page's policy allows workers of its own origin.
"use strict";

importScripts("/seal.js");

self.onmessage = function (event) {
  var job = event.data;
  if (!job || job.type !== "courier-seal-records") {
    return;
  }
  self.courierSeal.sealRecordsHere(job.ikm, job.blob, job.first, job.total).then(
    function (sealed) {
      self.postMessage({ id: job.id, blob: sealed });
    },
    function (error) {
      self.postMessage({
        id: job.id,
        error: { name: error && error.name, code: error && error.code, message: String((error && error.message) || error) },
      });
    }
  );
};

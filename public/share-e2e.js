// Courier's share page (/s/<id>) for an encrypted share.
//
// The server renders only `<section id="e2e" data-share data-files>` with a
// status line: it cannot say more, as it knows neither the names nor the
// key. This script reads the files' secrets from the link's #fragment
// (never sent anywhere: it leaves this page only as proofs derived from it,
// FORMAT.md "Proving the key"), asks for the password when the sender set
// one, opens each file's metadata, and lists the files. A download proves
// the key to Courier (`POST /s/<id>/<n>/e2e`), gets the store's URL for 60
// seconds (and a token that renews it), and decrypts the object as it
// streams in ranges (seal.js's storeRanges), to disk:
// - with `showSaveFilePicker` (Chromium): into the file the person picks,
//   aborted (nothing left under that name) when anything goes wrong;
// - otherwise through the service worker /share-sw.js, which answers a
//   hidden frame with the plaintext as an attachment, and errors it (a
//   failed download) when anything goes wrong.
// "Download all" saves each file in turn (into a folder picked once, where
// the browser has `showDirectoryPicker`).
//
// It writes text, never HTML (the page requires Trusted Types), and is loaded
// with `defer` after /seal.js.
(function () {
  "use strict";

  var section = document.getElementById("e2e");
  var seal = window.courierSeal;
  if (!section || !seal) {
    return;
  }
  var status = section.querySelector(".e2e-status");
  if (!status) {
    status = document.createElement("p");
    status.className = "e2e-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    section.appendChild(status);
  }
  var shareId = section.getAttribute("data-share") || "";
  // How many secrets the key holds at least: the share's highest file number
  // (a file its sender deleted keeps its slot; FORMAT.md).
  var fileCount = parseInt(section.getAttribute("data-files") || "0", 10);
  var base = "/s/" + encodeURIComponent(shareId);

  // A nonce is good for two minutes; one older than this is fetched again.
  var NONCE_MAX_AGE_MS = 60 * 1000;
  var PROGRESS_EVERY_MS = 200;
  var SW_URL = "/share-sw.js";
  var MISSING_KEY = "This link is missing its key (the part after #). Ask the sender for the whole link.";

  var canPick = typeof window.showSaveFilePicker === "function";
  var canPickFolder = canPick && typeof window.showDirectoryPicker === "function";
  var canServiceWorker = "serviceWorker" in navigator && typeof MessageChannel === "function";

  // ---- Small helpers ------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function say(sentence, isError) {
    status.textContent = sentence;
    status.classList.toggle("error", !!isError);
  }

  // As the site writes sizes (wire/src/size.rs): "1 byte", "512 bytes",
  // "1.5 KiB", "12.3 MiB": binary units, one decimal, none when it is 0.
  function humanSize(bytes) {
    if (bytes < 1024) {
      return bytes === 1 ? "1 byte" : bytes + " bytes";
    }
    var units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    var unit = 0;
    var divisor = 1024;
    while (bytes / 1024 >= divisor && unit + 1 < units.length) {
      divisor *= 1024;
      unit += 1;
    }
    var tenths = Math.round((bytes / divisor) * 10);
    return (tenths % 10 === 0 ? String(tenths / 10) : (tenths / 10).toFixed(1)) + " " + units[unit];
  }

  function filesInWords(count) {
    return count === 1 ? "1 file" : count + " files";
  }

  // The link's secrets, one per file, or null when the fragment is not
  // exactly that many. The fragment stays in the address bar as it came.
  function secretsFromLink() {
    var fragment = location.hash.replace(/^#/, "");
    if (!fileCount || fileCount < 1 || fragment.length < Math.ceil((16 * fileCount * 4) / 3)) {
      return null;
    }
    var bytes;
    try {
      bytes = seal.fromB64u(fragment);
    } catch (error) {
      return null;
    }
    // A whole number of secrets, at least one per file number; more are ignored.
    if (bytes.length % 16 !== 0 || bytes.length < 16 * fileCount) {
      return null;
    }
    var secrets = [];
    for (var i = 0; i < bytes.length / 16; i++) {
      secrets.push(bytes.slice(16 * i, 16 * (i + 1)));
    }
    return secrets;
  }

  // A JSON answer from Courier; a refusal's sentence ({"error"}) as an Error.
  function courier(path, init) {
    var options = init || {};
    options.credentials = "same-origin";
    options.cache = "no-store";
    options.headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    return fetch(base + path, options).then(
      function (response) {
        return response.json().then(
          function (body) {
            if (!response.ok) {
              throw refusal(body && typeof body.error === "string" ? body.error : null, response.status);
            }
            return body;
          },
          function () {
            throw refusal(null, response.status);
          }
        );
      },
      function () {
        throw refusal("Courier could not be reached. Check your connection and try again.", 0);
      }
    );
  }

  function refusal(sentence, httpStatus) {
    var error = new Error(sentence || "Courier refused (HTTP " + httpStatus + "). Try again in a moment.");
    error.sentence = error.message;
    error.status = httpStatus;
    return error;
  }

  // ---- The share ----------------------------------------------------------

  var secrets = secretsFromLink();
  var share = null; // {nonce, at, files}
  var files = []; // {number, objectSize, kdf, secret, keys, meta, row parts}

  if (!secrets) {
    say(MISSING_KEY, true);
    return;
  }

  say("Opening the files…");
  courier("/e2e").then(
    function (answer) {
      var cut = !answer || !Array.isArray(answer.files) || answer.files.some(function (file) {
        return !(file.number >= 1 && file.number <= secrets.length);
      });
      if (cut) {
        say(MISSING_KEY, true);
        return;
      }
      share = { nonce: answer.nonce, at: Date.now() };
      // File number n opens with the n-th secret.
      files = answer.files.map(function (file) {
        return { number: file.number, objectSize: file.size, sealedMeta: file.meta, kdf: file.kdf || null, secret: secrets[file.number - 1] };
      });
      if (files.some(function (file) { return file.kdf; })) {
        askPassword();
      } else {
        // openAll says why when it fails.
        openAll(null).catch(function () {});
      }
    },
    showFailure
  );

  function showFailure(error) {
    say(error && error.sentence ? error.sentence : "Something went wrong: reload the page to try again.", true);
  }

  // Derives each file's keys and opens its metadata; rejects with the
  // metadata's "key" SealError when the key or password is wrong.
  function openAll(password) {
    return Promise.all(
      files.map(function (file) {
        return seal.ikmFrom(file.secret, password, file.kdf)
          .then(seal.deriveKeys)
          .then(function (keys) {
            return seal.openMetadata(keys, file.sealedMeta).then(function (meta) {
              file.keys = keys;
              file.meta = meta;
            });
          });
      })
    ).then(
      function () {
        // The secrets are no longer needed: only CryptoKeys stay.
        files.forEach(function (file) { file.secret = null; });
        showFiles();
      },
      function (error) {
        if (password === null) {
          var sentence = error && error.code === "key"
            ? "This link's key does not open the files. Ask the sender for the whole link."
            : error && error.code === "input"
              ? error.message
              : "The files' details are damaged.";
          say(sentence, true);
        }
        throw error;
      }
    );
  }

  function askPassword() {
    var form = el("form", "unlock e2e-unlock");
    form.setAttribute("novalidate", "");
    var intro = el("p", "", "The sender protected these files with a password.");
    var label = el("label", "", "Password");
    label.htmlFor = "e2e-password";
    var input = el("input");
    input.id = "e2e-password";
    input.type = "password";
    input.name = "password";
    input.autocomplete = "current-password";
    input.required = true;
    input.setAttribute("aria-describedby", "e2e-password-error");
    var error = el("p", "error");
    error.id = "e2e-password-error";
    error.setAttribute("role", "alert");
    var button = el("button", "", "Show the files");
    button.type = "submit";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(button);
    section.insertBefore(intro, status);
    section.insertBefore(form, status);
    section.insertBefore(error, status);
    say("");
    input.focus();

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (button.disabled) {
        return;
      }
      var password = input.value;
      if (password === "") {
        error.textContent = "Type the password the sender gave you.";
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      button.disabled = true;
      input.readOnly = true;
      error.textContent = "";
      say("Checking the password…");
      openAll(password).then(
        function () {
          form.remove();
          intro.remove();
          error.remove();
        },
        function (failure) {
          button.disabled = false;
          input.readOnly = false;
          say("");
          error.textContent = failure && failure.code === "key"
            ? "The password is wrong."
            : failure && failure.code === "input"
              ? failure.message
              : "The files' details are damaged.";
          input.setAttribute("aria-invalid", "true");
          input.focus();
          input.select();
        }
      );
    });
  }

  // ---- The list -----------------------------------------------------------

  var allButton = null;

  function showFiles() {
    var list = el("ul", "share-files");
    var box = el("div", "e2e-files");
    // The server's page heads the share ("2 files", that they are
    // encrypted); a page without that heading gets one here.
    var outer = section.parentElement;
    if (!outer || !outer.querySelector("h2")) {
      box.appendChild(el("h2", "", filesInWords(files.length)));
      box.appendChild(el("p", "hint e2e-note", "Encrypted by the sender: your browser decrypts each file as it downloads."));
    }
    if (files.length > 1) {
      var total = files.reduce(function (sum, file) { return sum + file.meta.size; }, 0);
      box.appendChild(el("p", "file-size", humanSize(total) + " in all"));
    }
    if (files.length > 1) {
      var all = el("div", "share-all");
      allButton = el("button", "", "Download all");
      allButton.type = "button";
      allButton.addEventListener("click", downloadAll);
      all.appendChild(allButton);
      box.appendChild(all);
    }
    files.forEach(function (file) {
      list.appendChild(fileRow(file));
    });
    box.appendChild(list);
    var hadFocus = document.activeElement && section.contains(document.activeElement);
    section.insertBefore(box, status);
    say(files.length === 1 ? "The file is ready to download." : "The files are ready to download.");
    if (hadFocus) {
      // After the password form (about to go): on the first Download button.
      files[0].ui.button.focus();
    }
    if (!canPick && canServiceWorker) {
      // Ready before the first click: registering takes a moment.
      worker().catch(function () {});
    }
  }

  function fileRow(file) {
    var meta = file.meta;
    var name = meta.name.trim() === "" ? "Unnamed file" : meta.name;
    file.shownName = name;
    var item = el("li", "share-file");
    item.setAttribute("data-number", String(file.number));
    var text = el("div", "share-file-text");
    var title = el("h3", "file-name");
    title.appendChild(el("bdi", "", name));
    text.appendChild(title);
    var type = meta.type.trim();
    text.appendChild(el("p", "file-meta", humanSize(meta.size) + (type ? " · " + type : "")));
    var progress = el("progress", "e2e-bar");
    progress.max = Math.max(1, meta.size);
    progress.value = 0;
    progress.hidden = true;
    var line = el("p", "e2e-progress");
    line.hidden = true;
    text.appendChild(progress);
    text.appendChild(line);
    item.appendChild(text);
    var button = el("button", "share-download", "Download");
    button.type = "button";
    var hidden = el("span", "sr-only", " ");
    hidden.appendChild(el("bdi", "", name));
    button.appendChild(hidden);
    button.addEventListener("click", function () {
      downloadOne(file);
    });
    item.appendChild(button);
    file.ui = { button: button, progress: progress, line: line, item: item };
    return item;
  }

  // "3.2 MiB of 12.3 MiB", at most every PROGRESS_EVERY_MS.
  function progressOf(file) {
    var last = 0;
    var ui = file.ui;
    ui.progress.hidden = false;
    ui.line.hidden = false;
    ui.progress.value = 0;
    ui.line.classList.remove("error");
    ui.progress.setAttribute("aria-label", "Downloading " + file.shownName);
    function show(done) {
      ui.progress.value = done;
      ui.line.textContent = humanSize(done) + " of " + humanSize(file.meta.size);
    }
    show(0);
    return function (done, force) {
      var now = Date.now();
      if (force || now - last >= PROGRESS_EVERY_MS || done === file.meta.size) {
        last = now;
        show(done);
      }
    };
  }

  function busy(on) {
    files.forEach(function (file) { file.ui.button.disabled = on; });
    if (allButton) {
      allButton.disabled = on;
    }
  }

  // ---- Downloading --------------------------------------------------------

  function freshNonce() {
    if (share && Date.now() - share.at < NONCE_MAX_AGE_MS) {
      return Promise.resolve(share.nonce);
    }
    return courier("/e2e").then(function (answer) {
      share = { nonce: answer.nonce, at: Date.now() };
      return share.nonce;
    });
  }

  // The store's URL for `file`, once Courier has checked the proof, and the
  // token that renews it ({url, renew}).
  function storeUrl(file) {
    return freshNonce().then(function (nonce) {
      return seal.proof(file.keys, nonce).then(function (proof) {
        return courier("/" + file.number + "/e2e", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ nonce: nonce, proof: proof }),
        });
      });
    }).then(function (answer) {
      if (!answer || typeof answer.url !== "string") {
        throw refusal(null, 502);
      }
      return answer;
    });
  }

  // Where a download under way asks for a new URL of its object (the one
  // it has lasts a minute), and what it sends.
  function renewal(file, grant) {
    return { path: base + "/" + file.number + "/e2e/renew", token: typeof grant.renew === "string" ? grant.renew : "" };
  }

  function failure(file, error) {
    var name = file.shownName;
    if (error && error.sentence) {
      return error.sentence;
    }
    // Through the service worker the browser's own download had begun:
    // Firefox and Safari keep what it had written under the file's name.
    var saved = error && error.partial
      ? " Your browser may have kept part of it in your downloads: delete that file, it is not the whole of " + name + "."
      : " Nothing was saved.";
    switch (error && error.code) {
      case "damaged":
        return name + " is damaged: part of it does not decrypt." + saved;
      case "truncated":
        return name + " is incomplete: the end of it is missing." + saved;
      case "size":
        return name + " is not the size the sender encrypted." + saved;
      case "key":
        return "This link's key does not open " + name + ".";
      case "store":
        return "The store refused " + name + (error.detail ? " (HTTP " + error.detail + ")" : "") + ". Try again.";
      case "expired":
        return name + " did not start in time. Try again.";
      case "refused":
        // Courier's own sentence (the share was revoked while it downloaded…).
        return (error.detail || "Courier refused to go on with " + name + ".") + (error.partial ? saved : "");
      case "cancelled":
        return name + " was cancelled.";
      case "unsupported":
        return "This browser cannot save a decrypted file. Try a recent Chrome, Edge, Firefox or Safari.";
      case "network":
        return name + " did not download: the connection broke." + (error.partial ? saved : "") + " Try again.";
    }
    switch (error && error.name) {
      case "TypeError":
        // What a fetch's body says when the connection breaks.
        return name + " did not download: the connection broke. Try again.";
      case "QuotaExceededError":
        return "There is not enough space on the disk for " + name + ".";
      case "NotAllowedError":
      case "SecurityError":
        return "The browser did not allow saving " + name + ". Try again.";
      default:
        return name + " did not download. Try again.";
    }
  }

  function coded(code, detail) {
    var error = new Error(code);
    error.code = code;
    error.detail = detail;
    return error;
  }

  function isCancel(error) {
    return error && error.name === "AbortError";
  }

  // Before anything is asked of Courier: an object that cannot be this file.
  function checkSize(file) {
    if (seal.objectSize(file.meta.size) !== file.objectSize) {
      throw coded("size");
    }
  }

  function downloadOne(file) {
    if (file.ui.button.disabled) {
      return;
    }
    busy(true);
    var run = canPick ? saveWithPicker(file, null) : canServiceWorker ? saveWithWorker(file) : Promise.reject(coded("unsupported"));
    run.then(
      function (saved) {
        busy(false);
        if (saved) {
          say(file.shownName + " is saved.");
        }
      },
      function (error) {
        busy(false);
        reportFailure(file, error);
      }
    );
  }

  function reportFailure(file, error) {
    var sentence = failure(file, error);
    file.ui.line.hidden = false;
    file.ui.line.textContent = sentence;
    file.ui.line.classList.add("error");
    file.ui.progress.hidden = true;
    say(sentence, true);
  }

  function downloadAll() {
    if (allButton.disabled) {
      return;
    }
    busy(true);
    var folder = canPickFolder
      ? window.showDirectoryPicker({ id: "courier", mode: "readwrite" })
      : Promise.resolve(null);
    folder.then(
      function (directory) {
        var failed = 0;
        var index = 0;
        function next() {
          if (index >= files.length) {
            busy(false);
            if (failed === 0) {
              say(files.length + " files are saved.");
            } else {
              say(failed + " of " + files.length + " files did not download: see each file.", true);
            }
            return;
          }
          var file = files[index++];
          say("Downloading " + file.shownName + " (" + index + " of " + files.length + ")…");
          var run = directory ? saveWithPicker(file, directory) : canServiceWorker ? saveWithWorker(file) : Promise.reject(coded("unsupported"));
          run.then(next, function (error) {
            failed += 1;
            reportFailure(file, error);
            next();
          });
        }
        next();
      },
      function (error) {
        busy(false);
        if (!isCancel(error)) {
          say("The folder could not be opened. Try each file's Download button.", true);
        }
      }
    );
  }

  // --- With the browser's file picker (or a folder picked for all of them).

  // A name the folder accepts, not one already there: "a.txt", "a (1).txt"…
  function freeName(directory, wanted) {
    var clean = wanted.replace(/[\u0000-\u001f\u007f\/\\:*?"<>|]/g, "_").replace(/^[.\s]+|[.\s]+$/g, "") || "download";
    var dot = clean.lastIndexOf(".");
    var stem = dot > 0 ? clean.slice(0, dot) : clean;
    var extension = dot > 0 ? clean.slice(dot) : "";
    function attempt(n) {
      var name = n === 0 ? clean : stem + " (" + n + ")" + extension;
      return directory.getFileHandle(name).then(
        function () { return n < 100 ? attempt(n + 1) : Promise.reject(coded("unsupported")); },
        function (error) {
          if (error && error.name === "NotFoundError") {
            return directory.getFileHandle(name, { create: true });
          }
          throw error;
        }
      );
    }
    return attempt(0);
  }

  // Resolves true when saved, false when the person cancelled the picker.
  function saveWithPicker(file, directory) {
    var writable = null;
    var report = null;
    var handle;
    try {
      checkSize(file);
      // First, while the click still counts as the person's: the picker.
      handle = directory
        ? freeName(directory, file.meta.name)
        : window.showSaveFilePicker({ suggestedName: file.meta.name || "download" });
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(handle).then(
      function (chosen) {
        report = progressOf(file);
        return storeUrl(file).then(function (grant) {
          var ranges = seal.storeRanges(grant.url, file.objectSize, { renew: seal.renewer(renewal(file, grant)) });
          return ranges.ready().then(function () {
            return chosen.createWritable().then(function (stream) {
              writable = stream;
              return writeAll(seal.openObject(ranges, file.keys, file.meta.size, { onProgress: report }), writable);
            }, function (error) {
              ranges.close();
              throw error;
            });
          });
        }).then(
          function () {
            report(file.meta.size, true);
            file.ui.line.textContent = "Saved, " + humanSize(file.meta.size) + ".";
            return true;
          },
          function (error) {
            var abort = writable ? writable.abort(error).catch(function () {}) : Promise.resolve();
            // In a folder, the file is one this script made: nothing of it stays.
            return abort
              .then(function () {
                return directory ? directory.removeEntry(chosen.name).catch(function () {}) : null;
              })
              .then(function () { throw error; });
          }
        );
      },
      function (error) {
        if (isCancel(error)) {
          return false;
        }
        throw error;
      }
    );
  }

  // Each write to Chromium's writable file stream has a large cost of its
  // own, whatever its size, measured on a 2-core machine: writing the
  // object undecrypted went at about 130 MB/s in 1 MiB writes and 165-215 in
  // 4-16 MiB ones, and the whole download at 100-120 MB/s with 1 MiB writes,
  // 135-170 with 8 MiB ones, three in flight (issue 29). So the records are
  // copied into 8 MiB buffers, WRITES_IN_FLIGHT of them taking turns, each
  // used again once its write is done, so writing makes no garbage. Closes
  // `writable` at the end; on a failure leaves it unlocked, for the caller's
  // abort.
  var WRITE_SIZE = 128 * 65536;
  var WRITES_IN_FLIGHT = 3;

  function writeAll(plain, writable) {
    var reader = plain.getReader();
    var writer = writable.getWriter();
    var buffers = [];
    var writes = [];
    for (var i = 0; i < WRITES_IN_FLIGHT; i++) {
      buffers.push(new Uint8Array(WRITE_SIZE));
      writes.push(Promise.resolve());
    }
    var which = 0;
    var at = 0;

    // Writes the full buffer; resolves once the next one is free.
    function flush() {
      writes[which] = writer.write(buffers[which].subarray(0, at));
      writes[which].catch(function () {});
      which = (which + 1) % WRITES_IN_FLIGHT;
      at = 0;
      return writes[which];
    }

    function copy(chunk) {
      var room = WRITE_SIZE - at;
      if (chunk.length < room) {
        buffers[which].set(chunk, at);
        at += chunk.length;
        return Promise.resolve();
      }
      buffers[which].set(chunk.subarray(0, room), at);
      at = WRITE_SIZE;
      return flush().then(function () {
        return room < chunk.length ? copy(chunk.subarray(room)) : undefined;
      });
    }

    function next() {
      return reader.read().then(function (step) {
        if (step.done) {
          return (at > 0 ? flush() : Promise.resolve())
            .then(function () { return Promise.all(writes); })
            .then(function () { return writer.close(); });
        }
        return copy(step.value).then(next);
      });
    }

    return next().catch(function (error) {
      reader.cancel(error).catch(function () {});
      writer.releaseLock();
      throw error;
    });
  }

  // --- Through the service worker.

  var registration = null;

  // The active worker, registered (scope /s/) on first use.
  function worker() {
    if (!registration) {
      var scriptUrl = SW_URL;
      if (window.trustedTypes && window.trustedTypes.createPolicy) {
        var policy = window.trustedTypes.createPolicy("courier-sw", {
          createScriptURL: function (value) {
            if (value !== SW_URL) {
              throw new TypeError("Not Courier's service worker.");
            }
            return value;
          },
        });
        scriptUrl = policy.createScriptURL(SW_URL);
      }
      registration = navigator.serviceWorker
        .register(scriptUrl, { scope: "/s/" })
        .then(function () { return navigator.serviceWorker.ready; })
        .catch(function (error) {
          registration = null;
          throw coded("unsupported", String(error));
        });
    }
    return registration.then(function (ready) {
      if (ready.active) {
        return ready.active;
      }
      throw coded("unsupported");
    });
  }

  // Resolves when the browser has the whole file; rejects as the worker says.
  function saveWithWorker(file) {
    var report;
    var frame = null;
    try {
      checkSize(file);
    } catch (error) {
      return Promise.reject(error);
    }
    return worker().then(function (active) {
      report = progressOf(file);
      return storeUrl(file).then(function (grant) {
        return new Promise(function (resolve, reject) {
          var channel = new MessageChannel();
          var started = false;
          var timer = setTimeout(function () {
            if (!started) {
              finish(coded("expired"));
            }
          }, 30 * 1000);
          // Some browsers stop a worker they think idle even while its
          // answer streams (Firefox after 30 s without an event,
          // dom.serviceWorkers.idle_timeout): a message every 10 s keeps it
          // up, and a download that makes no progress for a minute fails
          // with a sentence instead of leaving the page waiting.
          var heard = Date.now();
          var keepalive = setInterval(function () {
            active.postMessage({ type: "courier-keepalive" });
            if (started && Date.now() - heard > 60 * 1000) {
              finish(coded("network"));
            }
          }, 10 * 1000);
          function finish(error) {
            if (error && started) {
              error.partial = true;
            }
            clearTimeout(timer);
            clearInterval(keepalive);
            channel.port1.close();
            // The frame stays a moment: removing it at once can cancel the download.
            if (frame) {
              var gone = frame;
              setTimeout(function () { gone.remove(); }, 1000);
            }
            if (error) {
              reject(error);
            } else {
              resolve(true);
            }
          }
          channel.port1.onmessage = function (event) {
            var message = event.data || {};
            heard = Date.now();
            if (message.type === "ready") {
              frame = el("iframe", "e2e-frame");
              frame.hidden = true;
              frame.setAttribute("aria-hidden", "true");
              frame.tabIndex = -1;
              frame.src = message.path;
              document.body.appendChild(frame);
            } else if (message.type === "started") {
              started = true;
            } else if (message.type === "progress") {
              report(message.done);
            } else if (message.type === "done") {
              report(file.meta.size, true);
              file.ui.line.textContent = "Saved, " + humanSize(file.meta.size) + " (in your downloads).";
              finish(null);
            } else if (message.type === "error") {
              finish(coded(message.code, message.detail));
            }
          };
          active.postMessage(
            {
              type: "courier-save",
              share: shareId,
              url: grant.url,
              renew: renewal(file, grant),
              keys: { content: file.keys.content, nonce: file.keys.nonce },
              size: file.meta.size,
              name: file.meta.name || "download",
            },
            [channel.port2]
          );
        });
      });
    });
  }
})();

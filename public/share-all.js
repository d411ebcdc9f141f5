// Courier's share page (/s/<id>): "Download all".
//
// Each file goes to a hidden frame of its own, pointed at its /s/<id>/<n>:
// the server redirects to the store, whose answer is an attachment, so the
// browser saves it and the frame stays empty. The bytes come straight from
// the store, each download is counted like any other, and no zip is made
// anywhere. Chromium asks once whether the site may download several files.
//
// Why frames and not clicks on the page's links: a Download link that
// redirects to another origin (the store) is a navigation of the page, and
// Chromium cancels it when the next click comes before the store has
// answered; on a slow connection only the last file arrived. Each frame
// navigates on its own. The page's policy allows frames from the site and
// the store only.
//
// The page renders the button hidden and this script shows it, so without
// JavaScript there is no button that does nothing (the page then says each
// file downloads on its own). It writes text, never HTML, so it runs under
// the policy's Trusted Types; it is loaded with `defer`, no inline script.
(function () {
  "use strict";

  // Between two files: keeps them in order in the browser's list, and the
  // requests gentle on the server.
  var STAGGER_MS = 500;

  var button = document.getElementById("download-all");
  var links = document.querySelectorAll("a.share-download");
  if (!button || links.length < 2) {
    return;
  }
  var note = document.getElementById("one-by-one");
  var status = document.getElementById("download-all-status");
  var frames = null;

  button.hidden = false;
  if (note) {
    note.hidden = true;
  }

  // The file a link downloads, as its card names it.
  function nameOf(link) {
    var item = link.closest("li");
    var name = item && item.querySelector(".file-name");
    return name ? name.textContent : link.getAttribute("href");
  }

  // Whether `frame` shows a page (an error: the limit was reached meanwhile,
  // the store refused) instead of staying empty, as it does when the browser
  // saves the file. Such a page is Courier's or the store's, refused a frame
  // by its headers: the browser's error page, which the script cannot read.
  function showsAPage(frame) {
    var page;
    try {
      page = frame.contentDocument;
    } catch (error) {
      page = null;
    }
    return !page || page.URL !== "about:blank";
  }

  button.addEventListener("click", function () {
    var total = links.length;
    var failed = [];
    var next = 0;

    function say() {
      var text =
        "Downloading " + total + " files. If your browser asks whether this site may " +
        "download several files, allow it.";
      failed.forEach(function (failure) {
        text += " " + failure + " did not download: try its own Download button.";
      });
      if (status) {
        status.textContent = text;
      }
    }

    if (frames) {
      frames.remove();
    }
    frames = document.createElement("div");
    frames.hidden = true;
    document.body.appendChild(frames);
    button.disabled = true;
    say();

    (function step() {
      if (next === total) {
        button.disabled = false;
        return;
      }
      var link = links[next];
      var frame = document.createElement("iframe");
      // The frame's first document is empty; `load` after that means a page came instead of a file.
      frame.addEventListener("load", function () {
        if (showsAPage(frame)) {
          failed.push(nameOf(link));
          say();
        }
      });
      frame.src = link.href;
      frames.appendChild(frame);
      next += 1;
      setTimeout(step, STAGGER_MS);
    })();
  });
})();

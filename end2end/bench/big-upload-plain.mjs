// The same large upload as big-upload.mjs, with the same handshake and
// output, but Chromium driven over a bare DevTools pipe (cdp-pipe.mjs)
// with only what choosing a file needs: no Network domain. No per-part
// figures (they would need the Network domain).
//   node bench/big-upload-plain.mjs http://127.0.0.1:3000/ /path/to/file.bin
import { basename } from "node:path";
import { openPage } from "./cdp-pipe.mjs";
import { HYDRATED, file, input, nextLine, say, timeoutMs, url } from "./handshake.mjs";

const { page, evaluate, waitFor, chooseFile, close } = await openPage();
try {
  await page("Page.navigate", { url });
  await waitFor(`!!document.querySelector(${JSON.stringify(HYDRATED)})`, 30_000);
  say({ event: "ready" });
  await nextLine();

  const t0 = performance.now();
  await chooseFile("document.querySelector('input[type=file]')", file);
  // "done" with its link (the card named after the file), or failed.
  const outcome = await waitFor(`(() => {
    const card = [...document.querySelectorAll(".card")].find((c) => c.textContent.includes(${JSON.stringify(basename(file))}));
    const link = card?.querySelector("a.download-link");
    if (link) return { state: card.dataset.state, link: link.href };
    const failed = document.querySelector(".card[data-state='failed']");
    if (failed) return { failed: failed.innerText };
  })()`, timeoutMs);
  const seconds = (performance.now() - t0) / 1000;
  if (outcome.failed) {
    say({ event: "failed", seconds, card: outcome.failed });
  } else {
    const recent = await evaluate(`JSON.parse(localStorage.getItem("courier.recent-uploads") ?? "[]")[0]`);
    say({ event: "done", seconds, state: outcome.state, link: outcome.link, key: recent?.key, token: recent?.token });
  }
  await nextLine();
} finally {
  await close();
  input.close();
}

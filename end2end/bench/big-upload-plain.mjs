// The same large upload as big-upload.mjs, with the same handshake and
// output, but Chromium driven over a bare DevTools pipe (cdp-pipe.mjs)
// with only what choosing a file needs: no Network domain. No per-part
// figures (they would need the Network domain).
//   node bench/big-upload-plain.mjs http://127.0.0.1:3000/ /path/to/file.bin
import { basename } from "node:path";
import { timeUpload } from "./cdp-pipe.mjs";
import { file, timeoutMs } from "./handshake.mjs";

// BENCH_ENCRYPT=1: "Encrypt in this browser" is checked first (before the clock starts would
// be kinder; it is checked after, and takes a click).
const encrypt = process.env.BENCH_ENCRYPT === "1";

await timeUpload(async ({ evaluate, waitFor, chooseFile }, elapsed) => {
  if (encrypt) {
    await evaluate(`(() => { const box = document.querySelector("[data-testid=encrypt]"); if (!box.checked) box.click(); })()`);
    await waitFor(`document.querySelector("[data-testid=encrypt]").checked`, 5_000);
  }
  await chooseFile("document.querySelector('input[type=file]')", file);
  // "done" with its link (the card named after the file), or failed.
  const outcome = await waitFor(`(() => {
    const card = [...document.querySelectorAll(".card")].find((c) => c.textContent.includes(${JSON.stringify(basename(file))}));
    const link = card?.querySelector("a.download-link");
    const share = card?.querySelector("[data-testid=share-link]");
    if (link && share) return { state: card.dataset.state, link: link.href, share: share.getAttribute("href") };
    const failed = document.querySelector(".card[data-state='failed']");
    if (failed) return { failed: failed.innerText };
  })()`, timeoutMs);
  const seconds = elapsed();
  if (outcome.failed) return { event: "failed", seconds, card: outcome.failed };
  const recent = await evaluate(`JSON.parse(localStorage.getItem("courier.recent-uploads") ?? "[]")[0]`);
  return { event: "done", seconds, state: outcome.state, link: outcome.link, share: outcome.share, key: recent?.key, token: recent?.token };
});

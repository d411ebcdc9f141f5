// The floor under the page's large upload: the least any page must do to
// send a file in parts from Chromium, measured the same way. A few lines of
// plain JavaScript, run in Courier's page (its origin, which the store's
// CORS allows) on a file input of their own, call the same API and send
// the parts as Courier's uploader does: per part, with checksums on, its
// SHA-256 by crypto.subtle (the bytes read into memory once for it), then a
// URL from sign_parts and an XMLHttpRequest PUT of the file's slice with an
// upload progress listener (which is what a progress bar needs); N parts at
// once; then complete_multipart. No cards, no progress drawn, no resume
// bookkeeping, no retries. Same handshake and output as big-upload.mjs,
// same bare DevTools pipe as big-upload-plain.mjs.
//   BENCH_PART_CHECKSUMS=true BENCH_PARALLEL_PARTS=4 \
//   node bench/big-upload-bare.mjs http://127.0.0.1:3000/ /path/to/file.bin
import { timeUpload } from "./cdp-pipe.mjs";
import { file } from "./handshake.mjs";

const checksums = process.env.BENCH_PART_CHECKSUMS !== "false";
const parallel = Number(process.env.BENCH_PARALLEL_PARTS ?? 4);

// Runs in the page. Resolves to the link complete_multipart answers.
const upload = async (file, checksums, parallel) => {
  const api = async (name, fields) => {
    const answer = await fetch(`/api/${name}`, { method: "POST", body: new URLSearchParams(fields) });
    if (!answer.ok) throw new Error(`${name}: ${answer.status} ${await answer.text()}`);
    return answer.json();
  };
  const { upload } = await api("start_multipart", {
    filename: file.name, content_type: "application/octet-stream", size: file.size,
  });
  const fields = Object.fromEntries(["key", "upload_id", "size", "part_size", "token"]
    .map((name) => [`upload[${name}]`, upload[name]]));
  const count = Math.ceil(file.size / upload.part_size);
  let next = 1;
  const sendParts = async () => {
    while (next <= count) {
      const number = next++;
      const blob = file.slice((number - 1) * upload.part_size, Math.min(number * upload.part_size, file.size));
      const form = { ...fields, "parts[0][number]": number };
      let sha256;
      if (checksums) {
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()));
        sha256 = btoa(String.fromCharCode(...digest));
        form["parts[0][sha256]"] = sha256;
      }
      const [{ url }] = await api("sign_parts", form);
      await new Promise((resolve, reject) => {
        const request = new XMLHttpRequest();
        request.open("PUT", url);
        if (sha256) request.setRequestHeader("x-amz-checksum-sha256", sha256);
        request.upload.onprogress = () => {};
        request.onload = () => (request.status < 300 ? resolve() : reject(new Error(`part ${number}: ${request.status}`)));
        request.onerror = () => reject(new Error(`part ${number}: no answer`));
        request.send(blob);
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, sendParts));
  return api("complete_multipart", fields);
};

await timeUpload(async ({ evaluate, chooseFile }, elapsed) => {
  await chooseFile(`window.bareInput = Object.assign(document.createElement("input"), { type: "file" })`, file);
  try {
    const link = await evaluate(`(${upload})(window.bareInput.files[0], ${checksums}, ${parallel})`);
    return { event: "done", seconds: elapsed(), state: "done", link: link.download_url, key: link.key, token: link.token };
  } catch (error) {
    return { event: "failed", seconds: elapsed(), card: String(error) };
  }
});

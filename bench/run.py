#!/usr/bin/env python3
"""`make bench`: Courier's figures next to its peers', measured in one run.

- the signing core in-process (criterion), next to boto3 and the AWS SDK for
  JavaScript v3 doing the same work in their own process;
- `sign_upload` and `/confirm-upload` over HTTP (wrk, rate limit off, against
  the embedded store), next to Uppy Companion's S3 signing route; a share's
  download redirect (`/s/<id>/1`, each request a counted download in
  SQLite) and a two-file share page's first load;
- the first load as headless Chromium receives it (bytes on the wire, cold
  and repeat visit, time until the uploader is hydrated), next to Uppy's
  Dashboard + S3 plugin bundled with esbuild;
- a large file (1 GiB, in parts) through the real page in headless Chromium
  (driven by Playwright, and over a bare DevTools pipe without the Network
  domain, as a person's browser runs it, also behind a throttled link), and
  a bare page sending the same parts, part checksums on and off, next
  to curl sending the same parts to the same store through the same
  multipart API; with the app server's CPU time and memory over the upload,
  the store running in a Courier process of its own.

`--only SECTION` (repeatable) measures one section: core, http, first-load,
large-file. For the large file, BENCH_LARGE_FILE_MIB (1024), BENCH_LARGE_RUNS
(3), BENCH_PARALLEL_PARTS (4; the page's COURIER_PARALLEL_PARTS and curl's) and
BENCH_LINK_MBIT (1000: the rate of the link the "link" runs are held to)
change what is measured.

Every figure is a measurement of this run on this machine; the "aim" column
is issue 10's (issue 11's for the large file). Standard library only. Needs
the release build (`make build`) and the peers (`bench/peers/install`); the
Makefile does both first.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / "peers"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
SITE_ROOT = ROOT / "target" / "site"
WRK_SECONDS = os.environ.get("BENCH_WRK_SECONDS", "10")
WRK_CONNECTIONS = "32"


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run_json(command, cwd=ROOT, env=None):
    """Runs a peer script that prints one JSON object."""
    log(" ".join(str(c) for c in command))
    out = subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the signing core in-process -------------------------------------------

def criterion():
    log("criterion benchmarks of the signing core")
    subprocess.run(
        ["cargo", "bench", "-p", "signer", "--bench", "signing", "--",
         "--warm-up-time", "1", "--measurement-time", "3"],
        cwd=ROOT, check=True, stdout=sys.stderr,
    )
    means = {}
    for name in ["grant_upload", "post_policy", "presign_get", "presign_get_aws_sdk", "token_verify"]:
        estimates = json.loads((TARGET / "criterion" / name / "new" / "estimates.json").read_text())
        means[name] = estimates["mean"]["point_estimate"] / 1000.0  # ns -> µs
    return means


# --- over HTTP ----------------------------------------------------------------

class Courier:
    """The release server with its embedded store, on free loopback ports."""

    def __init__(self, port=None, **settings):
        """`settings` are more environment variables (or replace these)."""
        self.data_dir = tempfile.mkdtemp(prefix="courier-bench-")
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ,
                   LEPTOS_SITE_ADDR=f"127.0.0.1:{self.port}",
                   LEPTOS_SITE_ROOT=str(SITE_ROOT),
                   LEPTOS_ENV="PROD",
                   COURIER_EMBEDDED_S3_ADDR="127.0.0.1:0",
                   COURIER_DATA_DIR=self.data_dir,
                   COURIER_RATE_LIMIT_PER_MINUTE="0",
                   RUST_LOG="warn")
        env.update(settings)
        self.process = subprocess.Popen([str(TARGET / "release" / "courier")], env=env,
                                        stdout=subprocess.DEVNULL, stderr=sys.stderr)
        wait_until_up(f"{self.base}/health")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def renewal_url(self):
        """Uploads one file with curl, as a browser would, and returns the
        `/confirm-upload` URL that signs a new link for it (the "New link"
        path: a HEAD on the store and a presigned GET)."""
        link, bucket = self.upload_one()
        return f"{self.base}/confirm-upload?token={link['token']}&bucket={bucket}&key={link['key']}"

    def upload_one(self, name="bench.txt"):
        """Uploads one small file with curl, as a browser would: its link
        JSON (with its share) and the bucket."""
        body = f"filename={name}&content_type=text%2Fplain&size=5"
        grant = json.loads(http_post(f"{self.base}/api/sign_upload", body))
        form = []
        for name, value in grant["fields"].items():
            form += ["--form-string", f"{name}={value}"]
        with tempfile.NamedTemporaryFile("wb", suffix=".txt") as f:
            f.write(b"hello")
            f.flush()
            redirect = subprocess.run(
                ["curl", "-sS", "-o", "/dev/null", "-w", "%{redirect_url}", *form,
                 "-F", f"file=@{f.name};type=text/plain", grant["url"]],
                check=True, capture_output=True, text=True).stdout
        request = urllib.request.Request(redirect, headers={"Accept": "application/json"})
        link = json.loads(urllib.request.urlopen(request).read())
        bucket = re.search(r"[?&]bucket=([^&]+)", redirect).group(1)
        return link, bucket

    def share_page_bytes(self):
        """A two-file share page's first load on the wire (brotli): the page,
        the stylesheet and the page's one script, as a browser asks for them."""
        first, _ = self.upload_one("one.txt")
        second, _ = self.upload_one("two.txt")
        refs = "&".join(f"shares[{i}][id]={link['share']['id']}&shares[{i}][token]={link['share']['token']}"
                        for i, link in enumerate((first, second)))
        share = json.loads(http_post(f"{self.base}/api/combine_shares", refs + "&rules[remove_password]=false"))
        page_url = share["url"]
        sizes = {}
        page = urllib.request.urlopen(urllib.request.Request(page_url, headers={"Accept-Encoding": "br"}))
        html_bytes = page.read()
        sizes["page"] = len(html_bytes) + len(str(page.headers))
        # Read again uncompressed for its links (python has no brotli decoder).
        html = urllib.request.urlopen(page_url).read().decode()
        for kind, pattern in (("css", r'href="(/pkg/[^"]+\.css)"'), ("js", r'src="(/[^"]+\.js)"')):
            for path in re.findall(pattern, html):
                asset = urllib.request.urlopen(urllib.request.Request(self.base + path, headers={"Accept-Encoding": "br"}))
                sizes[kind] = sizes.get(kind, 0) + len(asset.read()) + len(str(asset.headers))
        sizes["total"] = sum(sizes.values())
        sizes["wasm"] = ".wasm" in html
        return sizes, share


def wait_until_up(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"bench: {url} did not answer within {seconds} s")


def http_post(url, body, content_type="application/x-www-form-urlencoded"):
    request = urllib.request.Request(url, data=body.encode(), headers={"Content-Type": content_type})
    return urllib.request.urlopen(request).read()


def wrk(url, method="GET", body=None, content_type=None, headers=None):
    """Requests/s and latency percentiles (ms) from `wrk -t1 -c32`."""
    script = ["wrk.method = %s" % json.dumps(method)]
    if body is not None:
        script.append("wrk.body = %s" % json.dumps(body))
    if content_type:
        script.append('wrk.headers["Content-Type"] = %s' % json.dumps(content_type))
    for name, value in (headers or {}).items():
        script.append("wrk.headers[%s] = %s" % (json.dumps(name), json.dumps(value)))
    # Counts answers other than 2xx/3xx, so a refused run cannot pass as fast.
    script.append("""
local bad = 0
response = function(status) if status >= 400 then bad = bad + 1 end end
done = function() io.write(string.format("BAD %d\\n", bad)) end""")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("\n".join(script))
        lua = f.name
    log(f"wrk {method} {url}")
    out = subprocess.run(["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s", "--latency", "-s", lua, url],
                         check=True, capture_output=True, text=True).stdout
    os.unlink(lua)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = int(re.search(r"BAD (\d+)", out).group(1))
    if bad:
        raise SystemExit(f"bench: {bad} requests to {url} were refused:\n{out}")
    return {"rps": rps, "p50_ms": latency(out, "50%"), "p99_ms": latency(out, "99%")}


def latency(out, percentile):
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)\b", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def companion():
    port = free_port()
    process = subprocess.Popen(["node", str(PEERS / "companion.mjs"), str(port)], cwd=PEERS,
                               stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    try:
        request = json.loads(process.stdout.readline())
        return wrk(request["url"], request["method"], request.get("body"), request.get("content_type"))
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- a large file: the page in Chromium next to curl --------------------------

MIB = 1024 * 1024
LARGE_FILE_BYTES = int(float(os.environ.get("BENCH_LARGE_FILE_MIB", "1024")) * MIB)
# COURIER_PARALLEL_PARTS' default: the page, and curl, send this many parts at once.
PARALLEL_PARTS = int(os.environ.get("BENCH_PARALLEL_PARTS", "4"))
# Each measurement this many times (the median is kept).
LARGE_RUNS = int(os.environ.get("BENCH_LARGE_RUNS", "3"))
LARGE_FILE_NAME = "large-file.bin"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def part_size_for(size):
    """wire::multipart::part_size_for: 8 MiB, or more for files over 10,000 parts."""
    ceil = lambda a, b: -(-a // b)
    return max(ceil(ceil(size, 10_000), MIB) * MIB, 8 * MIB)


def cpu_seconds(pid):
    """utime + stime of one process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def tree_cpu(root):
    """utime + stime of `root` and every live process under it, by kind:
    node itself, and Chromium's browser, renderer, network service, GPU and
    other processes (told apart by their `--type` and `--utility-sub-type`);
    the renderer's main thread, which runs the page, apart as "page"."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    kinds = {}
    for pid in tree:
        try:
            # Chromium rewrites its children's titles: arguments split by spaces.
            args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
            seconds = cpu_seconds(pid)
        except OSError:
            continue
        kind = "node" if pid == root else "browser"
        for arg in args:
            if arg.startswith(b"--type="):
                kind = arg[len(b"--type="):].decode()
            elif arg.startswith(b"--utility-sub-type="):
                kind = arg[len(b"--utility-sub-type="):].decode().split(".")[0]
        if kind == "renderer":
            # The renderer's main thread runs the page itself (its JS, wasm,
            # DOM and layout); its other threads, Chromium's own work.
            try:
                page = cpu_seconds(f"{pid}/task/{pid}")
            except OSError:
                page = 0.0
            kinds["page"] = kinds.get("page", 0.0) + page
            seconds -= page
        kinds[kind] = kinds.get(kind, 0.0) + seconds
    return kinds


class Watch:
    """CPU time (utime + stime) and resident memory (sampled every 100 ms) of
    some processes, from now until `stop()`."""

    def __init__(self, **pids):
        self.pids = pids
        self.cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
        self.rss = {name: rss_bytes(pid) for name, pid in pids.items()}
        self.peak = dict(self.rss)
        self.children = os.times()
        self.stopping = threading.Event()
        self.sampler = threading.Thread(target=self.sample, daemon=True)
        self.sampler.start()

    def sample(self):
        while not self.stopping.wait(0.1):
            for name, pid in self.pids.items():
                try:
                    self.peak[name] = max(self.peak[name], rss_bytes(pid))
                except OSError:
                    pass  # gone: stop() says so

    def stop(self):
        self.stopping.set()
        self.sampler.join()
        figures = {}
        for name, pid in self.pids.items():
            self.peak[name] = max(self.peak[name], rss_bytes(pid))
            figures[name] = {
                "cpu_s": round(cpu_seconds(pid) - self.cpu[name], 3),
                "rss_before_bytes": self.rss[name],
                "rss_peak_bytes": self.peak[name],
                "rss_growth_bytes": self.peak[name] - self.rss[name],
            }
        return figures

    def own_cpu_seconds(self):
        """CPU this script and its finished children (curl) used since the start."""
        now = os.times()
        return sum(now[:4]) - sum(self.children[:4])


def post_form(url, fields):
    return json.loads(http_post(url, urllib.parse.urlencode(fields)))


def stored_size(link):
    """The size of the object a download link opens, from one byte of it."""
    request = urllib.request.Request(link, headers={"Range": "bytes=0-0"})
    with urllib.request.urlopen(request) as answer:
        spread = answer.headers.get("Content-Range")
        return int(spread.rsplit("/", 1)[1]) if spread else int(answer.headers["Content-Length"])


# How Chromium is driven: by Playwright (with per-part figures), or over a
# bare DevTools pipe without the Network domain, as no person's browser has
# DevTools attached (see end2end/bench/big-upload-plain.mjs); and the floor,
# a few lines of JavaScript sending the same parts with no page around them
# (end2end/bench/big-upload-bare.mjs), over the same bare pipe.
PAGE_DRIVERS = {"browser": "bench/big-upload.mjs", "plain": "bench/big-upload-plain.mjs",
                "bare": "bench/big-upload-bare.mjs", "link": "bench/big-upload-plain.mjs"}
# The "link" runs: the page as "plain" runs it, its uploads held by Chromium's
# own throttle to a link's rate, where the CPU no longer sets the pace.
LINK_MBIT = int(os.environ.get("BENCH_LINK_MBIT", "1000"))


def through_the_page(app, store, path, who, checksums, encrypt=False, keep=False):
    """Chromium uploads `path` through the page; timed from choosing the file
    until the card shows its link, with the servers watched over that span.
    `encrypt`: with "Encrypt in this browser" checked. `keep`: the file stays
    (its share link is in the answer's `share`), else it is deleted."""
    node = subprocess.Popen(["node", PAGE_DRIVERS[who], f"{app.base}/", str(path)], cwd=ROOT / "end2end",
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr, text=True,
                            env={**os.environ, "BENCH_PART_CHECKSUMS": str(checksums).lower(),
                                 "BENCH_ENCRYPT": "1" if encrypt else "0",
                                 "BENCH_PARALLEL_PARTS": str(PARALLEL_PARTS),
                                 "BENCH_LINK_MBIT": str(LINK_MBIT if who == "link" else 0)})

    def event():
        line = node.stdout.readline()
        if not line:
            node.wait(timeout=30)
            raise SystemExit(f"bench: big-upload.mjs ended early ({node.returncode})")
        return json.loads(line)

    try:
        if event()["event"] != "ready":
            raise SystemExit("bench: big-upload.mjs did not open the page")
        watch = Watch(app=app.process.pid, store=store.process.pid)
        before = tree_cpu(node.pid)
        node.stdin.write("go\n")
        node.stdin.flush()
        done = event()
        servers = watch.stop()
        browser_cpu = {kind: round(seconds - before.get(kind, 0.0), 2)
                       for kind, seconds in tree_cpu(node.pid).items()}
        node.stdin.write("close\n")
        node.stdin.close()
        node.wait(timeout=60)
    finally:
        if node.poll() is None:
            node.kill()
            node.wait()
    if done["event"] != "done":
        raise SystemExit(f"bench: the page's upload failed: {done}")
    size = path.stat().st_size
    if stored_size(done["link"]) != (sealed_size(size) if encrypt else size):
        raise SystemExit("bench: the store holds another size than the file's")
    key, token = done.pop("key"), done.pop("token")
    if not keep:
        delete_upload(app, key, token)
    seconds = done.pop("seconds")
    for name in ("event", "link"):
        done.pop(name)
    share = done.pop("share", None)
    return {"seconds": round(seconds, 3), "mb_per_s": round(size / seconds / 1e6, 1),
            **servers, "client_cpu_s": round(sum(browser_cpu.values()), 2), "client_cpu_by_process": browser_cpu,
            "page": done, **({"share": share, "key": key, "token": token} if keep else {})}


def sealed_size(size):
    """An encrypted file's object (FORMAT.md): 16 bytes more per 64 KiB record, at least one."""
    return size + 16 * max(1, -(-size // 65536))


def delete_upload(app, key, token):
    """Deletes an uploaded file (its owner's token), so runs do not fill the disk."""
    post_form(f"{app.base}/api/delete_upload", {"key": key, "token": token})


def with_curl(app, store, size, parts, checksums):
    """The same upload as the page makes it, by a script: start_multipart, then
    per part (PARALLEL_PARTS at once) its SHA-256 when checksums are on,
    sign_parts for it and `curl -T`, then complete_multipart. Timed from
    start_multipart until complete_multipart answers."""
    api = f"{app.base}/api"
    watch = Watch(app=app.process.pid, store=store.process.pid)
    start = time.perf_counter()
    upload = post_form(f"{api}/start_multipart", {
        "filename": LARGE_FILE_NAME, "content_type": "application/octet-stream", "size": size})["upload"]
    if upload["part_size"] != part_size_for(size):
        raise SystemExit(f"bench: Courier cut {upload['part_size']}-byte parts, the files are cut otherwise")
    fields = {f"upload[{name}]": upload[name] for name in ("key", "upload_id", "size", "part_size", "token")}

    def send(number):
        part = parts[number - 1]
        form = {**fields, "parts[0][number]": number}
        headers = []
        if checksums:
            sha256 = base64.b64encode(hashlib.sha256(part.read_bytes()).digest()).decode()
            form["parts[0][sha256]"] = sha256
            headers = ["-H", f"x-amz-checksum-sha256: {sha256}"]
        url = post_form(f"{api}/sign_parts", form)[0]["url"]
        subprocess.run(["curl", "-sS", "-f", "-o", "/dev/null", *headers, "-T", str(part), url], check=True)

    with ThreadPoolExecutor(PARALLEL_PARTS) as pool:
        list(pool.map(send, range(1, len(parts) + 1)))
    sent = time.perf_counter()
    link = post_form(f"{api}/complete_multipart", fields)
    seconds = time.perf_counter() - start
    # As the page's figures: from the last part's answer to the link (completing).
    after_last_part_ms = round((start + seconds - sent) * 1000)
    servers = watch.stop()
    client_cpu = watch.own_cpu_seconds()
    if stored_size(link["download_url"]) != size:
        raise SystemExit("bench: the store holds another size than the file's")
    delete_upload(app, link["key"], link["token"])
    return {"seconds": round(seconds, 3), "mb_per_s": round(size / seconds / 1e6, 1),
            **servers, "client_cpu_s": round(client_cpu, 3), "after_last_part_ms": after_last_part_ms}


def large_file():
    """A large file (1 GiB) through the real page in headless Chromium, part
    checksums on and off, next to curl sending the same file to the same
    store through the same multipart API; and what the app server spends on
    it, with the store in a Courier process of its own (a Courier's embedded
    store used as an external S3 bucket), so the app's figures carry no bytes.
    Each of the four is measured LARGE_RUNS times, interleaved, and the run
    with the median time is kept (all times are kept too)."""
    size = LARGE_FILE_BYTES
    scratch = Path(tempfile.mkdtemp(prefix="courier-bench-large-"))
    # The file and its parts; in the store, one upload's parts and object at a
    # time (each file is deleted once measured), and room to spare.
    needed = 6 * size + 2 * 1024 * MIB
    free = shutil.disk_usage(scratch).free
    if free < needed:
        shutil.rmtree(scratch)
        raise SystemExit(f"bench: the large file needs {needed / 1e9:.1f} GB free in {scratch.parent}, "
                         f"there are {free / 1e9:.1f} GB")
    store = None
    try:
        log(f"writing a {size / MIB:.0f} MiB file and its parts to {scratch}")
        path = scratch / LARGE_FILE_NAME
        part_size = part_size_for(size)
        parts = []
        with path.open("wb") as whole:
            for offset in range(0, size, part_size):
                chunk = os.urandom(min(part_size, size - offset))
                whole.write(chunk)
                parts.append(scratch / f"part-{len(parts) + 1:05d}")
                parts[-1].write_bytes(chunk)

        app_port = free_port()
        origin = f"http://127.0.0.1:{app_port}"
        store_port = free_port()
        # The store's CORS allows the app's origin: each app comes up on that port.
        store = Courier(COURIER_EMBEDDED_S3_ADDR=f"127.0.0.1:{store_port}", COURIER_PUBLIC_URL=origin)
        credentials = json.loads((Path(store.data_dir) / "credentials.json").read_text())
        measured = {f"{who}_{variant}": [] for who in (*PAGE_DRIVERS, "curl") for variant in ("checksums", "no_checksums")}
        for round_ in range(1, LARGE_RUNS + 1):
            for checksums in (True, False):
                variant = "checksums" if checksums else "no_checksums"
                log(f"round {round_}/{LARGE_RUNS}: Courier with COURIER_PART_CHECKSUMS={str(checksums).lower()}, "
                    f"its store another Courier's at 127.0.0.1:{store_port}")
                app = Courier(port=app_port,
                              COURIER_PUBLIC_URL=origin,
                              COURIER_BUCKET="courier",
                              COURIER_SECRET=credentials["courier_secret"],
                              COURIER_S3_FORCE_PATH_STYLE="true",
                              AWS_REGION="us-east-1",
                              AWS_ENDPOINT_URL_S3=f"http://127.0.0.1:{store_port}",
                              AWS_ACCESS_KEY_ID=credentials["access_key_id"],
                              AWS_SECRET_ACCESS_KEY=credentials["secret_access_key"],
                              COURIER_PARALLEL_PARTS=str(PARALLEL_PARTS),
                              COURIER_PART_CHECKSUMS=str(checksums).lower())
                try:
                    for who in (*PAGE_DRIVERS, "curl"):
                        # Each run starts with nothing left to write back from the one before.
                        os.sync()
                        if who in PAGE_DRIVERS:
                            run = through_the_page(app, store, path, who, checksums)
                        else:
                            run = with_curl(app, store, size, parts, checksums)
                        log(f"{who}, {variant}: {json.dumps(run)}")
                        measured[f"{who}_{variant}"].append(run)
                finally:
                    app.stop()
    finally:
        if store:
            store.stop()
        shutil.rmtree(scratch, ignore_errors=True)

    runs = {}
    for name, all_runs in measured.items():
        by_time = sorted(all_runs, key=lambda run: run["seconds"])
        runs[name] = {**by_time[len(by_time) // 2], "all_seconds": [run["seconds"] for run in all_runs]}
    for variant in ("checksums", "no_checksums"):
        for who, prefix in (("browser", ""), ("plain", "plain_"), ("bare", "bare_")):
            runs[f"ratio_{prefix}{variant}"] = round(
                runs[f"{who}_{variant}"]["mb_per_s"] / runs[f"curl_{variant}"]["mb_per_s"], 3)
        # How near the page comes to what any page can do in this browser.
        runs[f"plain_of_bare_{variant}"] = round(
            runs[f"plain_{variant}"]["mb_per_s"] / runs[f"bare_{variant}"]["mb_per_s"], 3)
    # What part checksums cost: the share of throughput lost with them on.
    for who in PAGE_DRIVERS:
        runs[f"checksum_cost_{who}"] = round(1 - runs[f"{who}_checksums"]["mb_per_s"] / runs[f"{who}_no_checksums"]["mb_per_s"], 3)
    runs["checksum_cost_curl"] = round(1 - runs["curl_checksums"]["mb_per_s"] / runs["curl_no_checksums"]["mb_per_s"], 3)
    return {
        "bytes": size, "part_size": part_size, "parts": len(parts), "parallel_parts": PARALLEL_PARTS,
        "link_mbit": LINK_MBIT,
        "runs_each": LARGE_RUNS,
        "measured": ("the app is one courier process using another courier process's embedded store as its "
                     "external S3 bucket (COURIER_BUCKET + AWS_ENDPOINT_URL_S3), so the app's CPU and memory "
                     "are its own: signing and completing, no file bytes; the store's are shown beside it. "
                     "CPU is utime+stime from /proc/<pid>/stat over the upload; memory is VmRSS sampled every "
                     "100 ms (peak, and peak minus the RSS before the upload). MB/s are 10^6 bytes per second, "
                     f"the median of {LARGE_RUNS} runs, interleaved. Client CPU: Chromium's processes (all of "
                     "them) for the page, this script plus curl for curl."),
        **runs,
    }


def mb(n):
    return f"{n / 1e6:.1f} MB"


def large_file_rows(lf):
    name = f"{lf['bytes'] / (1024 * MIB):g} GiB" if lf["bytes"] >= 1024 * MIB else f"{lf['bytes'] / MIB:g} MiB"
    how = f"{lf['parts']} parts of {lf['part_size'] // MIB} MiB, {lf['parallel_parts']} at once"
    rows = []
    for variant, what in (("checksums", "part checksums on (default)"), ("no_checksums", "COURIER_PART_CHECKSUMS=false")):
        page, curl = lf[f"browser_{variant}"], lf[f"curl_{variant}"]
        rows.append((
            f"{name} through the page, headless Chromium, {what}: choosing → link shown",
            f"{page['mb_per_s']:.1f} MB/s ({page['seconds']:.1f} s; {how})",
            f"curl -T, same API and store{', SHA-256 per part' if variant == 'checksums' else ''}: "
            f"{curl['mb_per_s']:.1f} MB/s ({curl['seconds']:.1f} s)",
            f"{lf[f'ratio_{variant}']:.2f}× curl's rate",
            "≥ 0.8× curl"))
    for variant, what in (("checksums", "checksums on"), ("no_checksums", "checksums off")):
        plain = lf[f"plain_{variant}"]
        rows.append((
            f"the same, Chromium without DevTools' network agent (as a person's browser), {what}",
            f"{plain['mb_per_s']:.1f} MB/s ({plain['seconds']:.1f} s; Chromium CPU {plain['client_cpu_s']:.1f} s)",
            "", f"{lf[f'ratio_plain_{variant}']:.2f}× curl's rate", "≥ 0.8× curl"))
    for variant, what in (("checksums", "checksums on"), ("no_checksums", "checksums off")):
        bare, plain = lf[f"bare_{variant}"], lf[f"plain_{variant}"]
        rows.append((
            f"the floor: a bare page in the same Chromium (a few lines of JavaScript sending the same parts "
            f"the same way, nothing drawn), {what}",
            f"Courier's page (no DevTools): {lf[f'plain_of_bare_{variant}']:.2f}× the bare page's rate",
            f"bare page: {bare['mb_per_s']:.1f} MB/s ({bare['seconds']:.1f} s; Chromium CPU {bare['client_cpu_s']:.1f} s, "
            f"its page thread {bare['client_cpu_by_process'].get('page', 0.0):.1f} s against Courier's "
            f"{plain['client_cpu_by_process'].get('page', 0.0):.1f} s)",
            f"bare page: {lf[f'ratio_bare_{variant}']:.2f}× curl's rate", "—"))
    sending = []
    for variant in ("checksums", "no_checksums"):
        page, curl = lf[f"browser_{variant}"], lf[f"curl_{variant}"]
        if page["page"].get("after_last_part_ms") is None:
            break
        rate = lambda run, after: lf["bytes"] / (run["seconds"] - after / 1000) / 1e6
        sending.append((rate(page, page["page"]["after_last_part_ms"]), rate(curl, curl["after_last_part_ms"])))
    if len(sending) == 2:
        rows.append((
            "the parts alone (until the last part's answer; then the store joins them), checksums on / off",
            f"page: {sending[0][0]:.1f} / {sending[1][0]:.1f} MB/s",
            f"curl: {sending[0][1]:.1f} / {sending[1][1]:.1f} MB/s",
            f"{sending[0][0] / sending[0][1]:.2f}× / {sending[1][0] / sending[1][1]:.2f}×", "—"))
    rows.append((
        "what part checksums cost (throughput lost with them on)",
        f"page: {lf['checksum_cost_browser'] * 100:+.1f}% (without DevTools' network agent "
        f"{lf['checksum_cost_plain'] * 100:+.1f}%; the bare page {lf['checksum_cost_bare'] * 100:+.1f}%)",
        f"curl: {lf['checksum_cost_curl'] * 100:+.1f}%", "", "≤ 10%"))
    on, off = lf["link_checksums"], lf["link_no_checksums"]
    rows.append((
        f"the same behind a {lf['link_mbit']} Mbit/s link (Chromium's own throttle, set through DevTools' network "
        "agent, told to copy no request body), "
        "checksums on / off",
        f"{on['mb_per_s']:.1f} / {off['mb_per_s']:.1f} MB/s: checksums cost {lf['checksum_cost_link'] * 100:+.1f}%",
        f"the link: {lf['link_mbit'] / 8:.1f} MB/s", "", "—"))
    for variant in ("checksums", "no_checksums"):
        page, curl = lf[f"browser_{variant}"], lf[f"curl_{variant}"]
        app, store = page["app"], page["store"]
        rows.append((
            f"app server during the page's upload ({'checksums on' if variant == 'checksums' else 'checksums off'}; "
            "store in its own process)",
            f"CPU {app['cpu_s']:.2f} s, peak RSS {mb(app['rss_peak_bytes'])} (+{mb(app['rss_growth_bytes'])})",
            f"the store's process: CPU {store['cpu_s']:.1f} s, peak RSS {mb(store['rss_peak_bytes'])} "
            f"(+{mb(store['rss_growth_bytes'])}); during curl's: app CPU {curl['app']['cpu_s']:.2f} s",
            "", "—"))
    rows.append((
        "client CPU for the whole upload (checksums on / off)",
        f"Chromium, all processes: {lf['browser_checksums']['client_cpu_s']:.1f} s / {lf['browser_no_checksums']['client_cpu_s']:.1f} s",
        f"curl + this script: {lf['curl_checksums']['client_cpu_s']:.1f} s / {lf['curl_no_checksums']['client_cpu_s']:.1f} s",
        "", "—"))
    return rows


def large_file_aims(lf):
    """Judged on the page as a person's browser runs it (no DevTools attached:
    the plain driver); the reasons give Playwright's figures too."""
    return [
        ("the page sends a large file at 0.8× curl's rate or better, part checksums on",
         lf["ratio_plain_checksums"] >= 0.8, large_file_reason(lf, "checksums")),
        ("the page sends a large file at 0.8× curl's rate or better, part checksums off",
         lf["ratio_plain_no_checksums"] >= 0.8, large_file_reason(lf, "no_checksums")),
        ("part checksums cost the page at most 10% of its rate", lf["checksum_cost_plain"] <= 0.10,
         checksum_reason(lf)),
    ]


def large_file_reason(lf, variant):
    """What this run measured around the page's upload, against curl's."""
    page, curl, plain = lf[f"browser_{variant}"], lf[f"curl_{variant}"], lf[f"plain_{variant}"]
    by_process = sorted(plain["client_cpu_by_process"].items(), key=lambda kv: -kv[1])
    processes = ", ".join(f"{kind} {seconds:.1f} s" for kind, seconds in by_process[:4])
    reason = (f"Without DevTools, the page went at {lf[f'ratio_plain_{variant}']:.2f}× curl's rate "
              f"(driven by Playwright: {lf[f'ratio_{variant}']:.2f}×). "
              f"Chromium's processes used {plain['client_cpu_s']:.1f} s of CPU for the upload ({processes}), "
              f"curl and this script {curl['client_cpu_s']:.1f} s for the same bytes, and the store "
              f"{page['store']['cpu_s']:.1f} s, all on the same {os.cpu_count()} cores: the browser's own CPU "
              "per byte, not the network, sets the page's pace here. "
              f"Of Chromium's CPU, the page itself (the renderer's main thread: its JS, wasm, DOM and layout) "
              f"used {plain['client_cpu_by_process'].get('page', 0.0):.1f} s; the rest is Chromium moving the "
              "bytes, which no page can change: the browser process reads the file and hands it over IPC "
              "to the network service, which writes the socket. ")
    if variant == "checksums":
        reason += ("With checksums on, the page also reads each part into memory for the browser to hash "
                   "(crypto.subtle SHA-256) before signing and sending it. ")
    reason += (f"The floor, measured in the same run: a bare page sending the same parts from the same Chromium "
               f"with nothing drawn went at {lf[f'ratio_bare_{variant}']:.2f}× curl's rate, and Courier's page at "
               f"{lf[f'plain_of_bare_{variant}']:.2f}× the bare page's. ")
    joined = page["page"].get("after_last_part_ms")
    if joined is not None:
        parts_alone = (curl["seconds"] - curl["after_last_part_ms"] / 1000) / (page["seconds"] - joined / 1000)
        reason += (f"Both then wait for the store to join the parts ({joined} ms for the page, "
                   f"{curl['after_last_part_ms']} ms for curl); until the last part's answer, the page driven "
                   f"by Playwright went at {parts_alone:.2f}× curl's rate.")
    return reason


def checksum_reason(lf):
    on, off = lf["plain_checksums"], lf["plain_no_checksums"]
    page_on, page_off = on["client_cpu_by_process"].get("page", 0.0), off["client_cpu_by_process"].get("page", 0.0)
    return (f"With checksums on, Chromium used {on['client_cpu_s']:.1f} s of CPU instead of "
            f"{off['client_cpu_s']:.1f} s (the page's own thread {page_on:.1f} s instead of {page_off:.1f} s: "
            "Chromium copies a Blob read into memory on that thread): the page reads each part into memory and "
            "the browser hashes it (crypto.subtle SHA-256) before it signs and sends it; then the browser reads "
            "the part again to send it (sending the bytes already read instead was measured no faster). "
            "Any checksum the store can check needs every byte in the page once more: no cheaper hash "
            "removes that read. Driven by Playwright, "
            f"checksums cost {lf['checksum_cost_browser'] * 100:.1f}%. The store checks each "
            f"x-amz-checksum-sha256 too (its CPU: {on['store']['cpu_s']:.1f} s instead of {off['store']['cpu_s']:.1f} s, "
            "on the same cores), which curl's runs pay as well "
            f"({lf['checksum_cost_curl'] * 100:+.1f}% for curl). A bare page sending the same parts from the "
            f"same Chromium lost {lf['checksum_cost_bare'] * 100:.1f}% with checksums on, in the same run. "
            f"Behind a {lf['link_mbit']} Mbit/s link (Chromium's throttle), where the link rather than the CPU "
            f"sets the pace, checksums cost the page {lf['checksum_cost_link'] * 100:.1f}%.")


# --- the table ------------------------------------------------------------------

def ratio(theirs, ours):
    return f"{theirs / ours:.2f}× (peer / Courier)" if ours else "—"


FLOOR = ROOT / "bench" / "leptos-floor"
# What cargo-leptos runs on a release bundle (its default wasm-opt arguments).
WASM_OPT_ARGS = ["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int"]


def leptos_floor():
    """The bundle of the smallest Leptos island page (bench/leptos-floor),
    built with Courier's release settings, wasm-bindgen and wasm-opt as
    cargo-leptos runs them, and its wasm and JS brotli-compressed at level 11
    as `--precompress` does: what Leptos itself sends, with no Courier code."""
    target = TARGET / "leptos-floor"
    subprocess.run(["cargo", "build", "--release", "--locked", "--target", "wasm32-unknown-unknown",
                    "--manifest-path", str(FLOOR / "Cargo.toml"), "--target-dir", str(target)],
                   check=True, capture_output=True)
    pkg = target / "pkg"
    subprocess.run(["wasm-bindgen", "--target", "web", "--no-typescript", "--out-dir", str(pkg),
                    str(target / "wasm32-unknown-unknown" / "release" / "leptos_floor.wasm")], check=True)
    wasm = pkg / "leptos_floor_bg.wasm"
    wasm_opt = shutil.which("wasm-opt") or str(ROOT / "end2end" / "node_modules" / ".bin" / "wasm-opt")
    subprocess.run([wasm_opt, *WASM_OPT_ARGS, str(wasm), "-o", str(wasm)], check=True)
    sizes = run_json(["node", "-e", """
        const { readFileSync } = require("node:fs");
        const { brotliCompressSync, constants } = require("node:zlib");
        const br = (f) => brotliCompressSync(readFileSync(f), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
        console.log(JSON.stringify({ wasm_bytes: readFileSync(process.argv[1]).length,
          wasm_brotli_bytes: br(process.argv[1]), js_brotli_bytes: br(process.argv[2]) }));
    """, str(wasm), str(pkg / "leptos_floor.js")])
    return {**sizes, "brotli_bytes": sizes["wasm_brotli_bytes"] + sizes["js_brotli_bytes"]}


def site_modules():
    """The release site's two WebAssembly modules (the page's, and the
    uploader's that `--split` puts apart), raw and as the brotli file served."""
    pkg = SITE_ROOT / "pkg"
    modules = {}
    for kind, pattern in (("page", "courier.*.wasm"), ("uploader", "split_uploader.*.wasm")):
        for path in pkg.glob(pattern):
            modules[kind] = {"bytes": path.stat().st_size,
                             "brotli_bytes": path.with_name(path.name + ".br").stat().st_size}
    return modules


def kb(n):
    return f"{n / 1000:.1f} KB"


SECTIONS = ("core", "http", "first-load", "large-file", "encryption")

E2E_FILE_BYTES = int(float(os.environ.get("BENCH_E2E_FILE_MIB", "1024")) * MIB)
E2E_BIG_BYTES = int(float(os.environ.get("BENCH_E2E_BIG_MIB", "4096")) * MIB)
E2E_RUNS = int(os.environ.get("BENCH_E2E_RUNS", "3"))
# A second site to measure beside this one, in the same run (a "before"):
# the same server binary serving that site root's pages and scripts.
E2E_BASELINE_SITE = os.environ.get("BENCH_E2E_BASELINE_SITE")
# The ways a share's file is downloaded through its page: in Chromium through
# its service worker and through its save-file picker (share-download.mjs; a
# plain share's link is the browser's own download either way), and in
# Firefox and WebKit, which have no picker (share-download-firefox.mjs,
# share-download-webkit.mjs).
DOWNLOAD_PATHS = ("worker", "picker", "firefox", "webkit")
PLAIN_DOWNLOAD_PATHS = ("worker", "firefox", "webkit")
# Behind the link (LinkProxy): the browsers that take a proxy.
LINK_DOWNLOAD_PATHS = ("worker", "picker", "firefox")
LINK_PLAIN_DOWNLOAD_PATHS = ("worker", "firefox")
# The other browsers' scripts; Chromium's takes its path as an argument.
OTHER_BROWSERS = {"firefox": "bench/share-download-firefox.mjs", "webkit": "bench/share-download-webkit.mjs"}


def share_download(link, size, path="worker", link_proxy=None):
    """The share's first file through its page in a headless browser, to disk:
    seconds, MB/s and the page's memory peaks. `path`: in Chromium through
    the service worker, or the save-file picker (a file of the origin's
    private file system, in the browser's profile under TMPDIR); or in
    Firefox or WebKit. `link_proxy`: the port of a LinkProxy the browser
    reaches everything through (Chromium and Firefox)."""
    into = Path(tempfile.mkdtemp(prefix="courier-bench-download-"))
    other = OTHER_BROWSERS.get(path)
    command = ([other, link, str(size), str(into)] if other
               else ["bench/share-download.mjs", link, str(size), str(into), path])
    env = None
    if link_proxy:
        flags = f"--proxy-server=http://127.0.0.1:{link_proxy} --proxy-bypass-list=<-loopback>"
        env = dict(os.environ, BENCH_LINK_PROXY=str(link_proxy),
                   BENCH_CHROMIUM_FLAGS=f"{os.environ.get('BENCH_CHROMIUM_FLAGS', '')} {flags}".strip())
    try:
        return run_json(["node", *command], cwd=ROOT / "end2end", env=env)
    finally:
        shutil.rmtree(into, ignore_errors=True)


class LinkProxy:
    """bench/link-proxy.mjs: a forward proxy on loopback holding what it
    carries to BENCH_LINK_MBIT, a link for the browsers' downloads."""

    def __init__(self):
        self.process = subprocess.Popen(["node", "bench/link-proxy.mjs", str(LINK_MBIT * 1_000_000 // 8)],
                                        cwd=ROOT / "end2end", stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def median_run(runs):
    by_time = sorted(runs, key=lambda run: run["seconds"])
    return {**by_time[len(by_time) // 2], "all_seconds": [run["seconds"] for run in runs]}


def random_file(path, size):
    with path.open("wb") as out:
        for offset in range(0, size, 64 * MIB):
            out.write(os.urandom(min(64 * MIB, size - offset)))


def encryption_courier(site):
    return Courier(COURIER_PARALLEL_PARTS=str(PARALLEL_PARTS), COURIER_MAX_UPLOAD_BYTES=str(8 * 1024 * MIB),
                   LEPTOS_SITE_ROOT=str(site))


def encryption():
    """End-to-end encryption next to the plain path, in one run, against one
    Courier (embedded store): the same file through the page behind a
    BENCH_LINK_MBIT link (1 Gbit/s), encrypted and not, with the browser's CPU
    per GiB; its share downloaded to disk through the share page, decrypted
    (through each of the page's two paths in Chromium, and in Firefox and
    WebKit) and not; each browser's own ceiling for a download a page makes,
    beside its plain download (bench/download-ceiling.mjs); and a large
    encrypted file (BENCH_E2E_BIG_MIB, 4 GiB) downloaded through each of
    those with the tab's memory watched. Runs interleaved, the median kept.
    With BENCH_E2E_BASELINE_SITE, all of it again against that site,
    interleaved with this one's ("baseline")."""
    size = E2E_FILE_BYTES
    sites = {"site": SITE_ROOT, **({"baseline": Path(E2E_BASELINE_SITE)} if E2E_BASELINE_SITE else {})}
    scratch = Path(tempfile.mkdtemp(prefix="courier-bench-e2e-"))
    # At most at once: the 1 GiB file, its upload in the store and a download
    # of it (one site's at a time); or the large file's object in the store
    # and its download (the file itself is gone by then).
    needed = max(3 * size, 2 * E2E_BIG_BYTES) + 1024 * MIB
    free = shutil.disk_usage(scratch).free
    if free < needed:
        shutil.rmtree(scratch)
        raise SystemExit(f"bench: encryption needs {needed / 1e9:.1f} GB free in {scratch.parent}, there are {free / 1e9:.1f} GB")
    apps = {}
    results = {}
    link_proxy = None
    try:
        link_proxy = LinkProxy()
        path = scratch / "bench e2e.bin"
        random_file(path, size)
        apps = {name: encryption_courier(site) for name, site in sites.items()}
        uploads = {(name, kind): [] for name in sites for kind in ("plain", "sealed")}
        # Keyed "plain", "sealed", "sealed_picker", "plain_firefox"…: a plain
        # share downloads one way in each browser (its link), an encrypted one
        # through each of the page's paths.
        downloads = {}
        for round_ in range(1, E2E_RUNS + 1):
            for kind in ("plain", "sealed"):
                for name, app in apps.items():
                    log(f"encryption, round {round_}/{E2E_RUNS}: {kind} upload behind {LINK_MBIT} Mbit/s ({name})")
                    os.sync()
                    run = through_the_page(app, app, path, "link", True, encrypt=kind == "sealed", keep=True)
                    run["client_cpu_s_per_gib"] = round(run["client_cpu_s"] / (size / (1024 * MIB)), 2)
                    uploads[name, kind].append(run)
                    log(json.dumps({"upload": {k: run[k] for k in ("seconds", "mb_per_s", "client_cpu_s")}}))
                    for way in DOWNLOAD_PATHS if kind == "sealed" else PLAIN_DOWNLOAD_PATHS:
                        log(f"{kind} download through the share page ({way}, {name})")
                        # The Courier process serves the object from its embedded store.
                        server_cpu = cpu_seconds(app.process.pid)
                        download = share_download(run["share"], size, way)
                        download["server_cpu_s_per_gib"] = round(
                            (cpu_seconds(app.process.pid) - server_cpu) / (size / (1024 * MIB)), 2)
                        downloads.setdefault((name, kind if way == "worker" else f"{kind}_{way}"), []).append(download)
                        log(json.dumps({"download": download}))
                    # The same downloads behind the link (not WebKit's: its driver takes no proxy).
                    for way in LINK_DOWNLOAD_PATHS if kind == "sealed" else LINK_PLAIN_DOWNLOAD_PATHS:
                        log(f"{kind} download through the share page behind {LINK_MBIT} Mbit/s ({way}, {name})")
                        download = share_download(run["share"], size, way, link_proxy=link_proxy.port)
                        downloads.setdefault((name, f"{kind}_link" if way == "worker" else f"{kind}_{way}_link"),
                                             []).append(download)
                        log(json.dumps({"download": download}))
                    delete_upload(app, run["key"], run["token"])
        path.unlink()
        for app in apps.values():
            app.stop()
        apps = {}
        # Each browser's own ceiling for a download a page makes, as many
        # bytes, side by side with its plain download (no Courier in it).
        ceilings = {}
        for browser in ("chromium", "firefox", "webkit"):
            log(f"the browser's own ceiling for a download a page makes ({browser})")
            ceilings[browser] = run_json(["node", "bench/download-ceiling.mjs", browser, str(size), str(max(2, E2E_RUNS))],
                                         cwd=ROOT / "end2end")
            log(json.dumps(ceilings[browser]))
        for name, site in sites.items():
            results[name] = {
                "bytes": size, "link_mbit": LINK_MBIT, "runs_each": E2E_RUNS,
                "upload_plain": median_run(uploads[name, "plain"]), "upload_sealed": median_run(uploads[name, "sealed"]),
                **{f"download_{kind}": median_run(runs) for (owner, kind), runs in downloads.items() if owner == name},
                "big_bytes": E2E_BIG_BYTES, **({"ceilings": ceilings} if name == "site" else {})}
            # The large file: a Courier of its own for each site, gone with
            # its store afterwards.
            log(f"a {E2E_BIG_BYTES / MIB:.0f} MiB encrypted file, sent with `courier send`, downloaded through the page ({name})")
            app = apps[name] = encryption_courier(site)
            big = scratch / "big e2e.bin"
            random_file(big, E2E_BIG_BYTES)
            link = subprocess.run([str(TARGET / "release" / "courier"), "send", str(big), "--url", app.base],
                                  check=True, capture_output=True, text=True).stdout.strip()
            big.unlink()
            for way in DOWNLOAD_PATHS:
                log(f"the {E2E_BIG_BYTES / MIB:.0f} MiB file through the {way} ({name})")
                big_download = share_download(link, E2E_BIG_BYTES, way)
                log(json.dumps(big_download))
                results[name]["big_download_sealed" + ("" if way == "worker" else f"_{way}")] = big_download
            app.stop()
            del apps[name]
    finally:
        for app in apps.values():
            app.stop()
        if link_proxy:
            link_proxy.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    for result in results.values():
        result["upload_ratio"] = round(result["upload_sealed"]["mb_per_s"] / result["upload_plain"]["mb_per_s"], 3)
        # Each path against the plain download in the same browser.
        # On loopback, then behind the link (where WebKit has no figures).
        for link in ("", "_link"):
            for way, plain in (("", ""), ("_picker", ""), ("_firefox", "_firefox"), ("_webkit", "_webkit")):
                sealed, plain_run = result.get("download_sealed" + way + link), result.get("download_plain" + plain + link)
                if sealed and plain_run:
                    result["download_ratio" + way + link] = round(sealed["mb_per_s"] / plain_run["mb_per_s"], 3)
    result = results["site"]
    if "baseline" in results:
        result["baseline"] = {"site": E2E_BASELINE_SITE, **results["baseline"]}
    return result


def main():
    parser = argparse.ArgumentParser(description="Courier's figures next to its peers', in one run.")
    parser.add_argument("--only", action="append", choices=SECTIONS, metavar="SECTION",
                        help=f"measure only this section (repeatable): {', '.join(SECTIONS)}; "
                             "the figures replace that section's in bench-results.json")
    wanted = set(parser.parse_args().only or SECTIONS)

    results = {}
    if "core" in wanted:
        results["core"] = criterion()
        results["js"] = run_json(["node", str(PEERS / "js_sdk.mjs")], cwd=PEERS)
        results["boto3"] = run_json([str(PEERS / ".venv" / "bin" / "python"), str(PEERS / "boto3_sign.py")], cwd=PEERS)
    if "first-load" in wanted:
        results["uppy"] = run_json(["node", str(PEERS / "uppy_bundle.mjs")], cwd=PEERS)
        results["leptos_floor"] = leptos_floor()

    if wanted & {"http", "first-load"}:
        courier = Courier()
        try:
            if "http" in wanted:
                results["sign_upload"] = wrk(f"{courier.base}/api/sign_upload", "POST",
                                             "filename=holiday%20photo.jpg&content_type=image%2Fjpeg&size=3500000",
                                             "application/x-www-form-urlencoded")
                results["confirm"] = wrk(courier.renewal_url(), headers={"Accept": "application/json"})
                # Each request counts a download (unlimited) and signs a one-minute GET.
                link, _ = courier.upload_one("shared.txt")
                results["share_download"] = wrk(f"{link['share']['url']}/1")
                results["share_page"], _ = courier.share_page_bytes()
            if "first-load" in wanted:
                results["first_load"] = run_json(["node", "bench/first-load.mjs", f"{courier.base}/", "5"],
                                                 cwd=ROOT / "end2end")
                results["first_load"]["modules"] = site_modules()
        finally:
            courier.stop()
    if "http" in wanted:
        results["companion"] = companion()
    if "large-file" in wanted:
        results["large_file"] = large_file()
    if "encryption" in wanted:
        results["encryption"] = encryption()

    path = TARGET / "bench-results.json"
    saved = results
    if wanted != set(SECTIONS) and path.exists():
        # A partial run replaces its own sections' figures and keeps the others'.
        saved = {**json.loads(path.read_text()), **results}
    path.write_text(json.dumps(saved, indent=2))
    print_table(results)


def print_table(r):
    """The rows of the sections measured in this run."""
    rows = []
    if "first_load" in r:
        first, uppy = r["first_load"], r["uppy"]
        rows += [
            ("first load on the wire, cold cache (page + wasm + js + css, br)",
             kb(first["first_visit_bytes"]),
             f"Uppy Dashboard + S3, esbuild: {kb(uppy['brotli_bytes'])} br / {kb(uppy['gzip_bytes'])} gz (JS + CSS only)",
             ratio(uppy["brotli_bytes"], first["first_visit_bytes"]), "< 82 KB"),
            ("the smallest Leptos island page's wasm + js (bench/leptos-floor: one signal, an input, "
             "a button; built as Courier's, its js not minified), br",
             kb(r["leptos_floor"]["brotli_bytes"]), "—",
             f"Courier's first load: {first['first_visit_bytes'] / r['leptos_floor']['brotli_bytes']:.1f}× it", "—"),
            ("repeat visit: asset bytes on the wire",
             f"{first['repeat_visit_asset_bytes']} B (page {kb(first['repeat_visit_bytes'])})", "—", "", "0"),
            ("time until the uploader is hydrated, cold cache (median of 5)",
             f"{first['hydrated_ms_median']} ms", "—", "", "—"),
        ]
    if "sign_upload" in r:
        sign, confirm, comp = r["sign_upload"], r["confirm"], r["companion"]
        rows += [
            ("sign_upload over HTTP, wrk -t1 -c32, rate limit off",
             f"{sign['rps']:,.0f} req/s, p50 {sign['p50_ms']:.2f} ms, p99 {sign['p99_ms']:.2f} ms",
             f"Uppy Companion S3 params: {comp['rps']:,.0f} req/s, p99 {comp['p99_ms']:.1f} ms",
             f"{sign['rps'] / comp['rps']:.0f}× the req/s",
             "≥ 20k req/s, p99 < 3 ms"),
            ("/confirm-upload (new link: HEAD + presigned GET) over HTTP",
             f"{confirm['rps']:,.0f} req/s, p50 {confirm['p50_ms']:.2f} ms, p99 {confirm['p99_ms']:.2f} ms", "—", "", "—"),
        ]
    if "share_download" in r:
        down, page = r["share_download"], r["share_page"]
        rows += [
            ("a share's download redirect (/s/<id>/1: the rules read, the download counted in SQLite, "
             "a one-minute GET signed), wrk -t1 -c32, rate limit off",
             f"{down['rps']:,.0f} req/s, p50 {down['p50_ms']:.2f} ms, p99 {down['p99_ms']:.2f} ms", "—", "",
             "≥ 10k req/s, p99 < 5 ms"),
            ("a two-file share page's first load on the wire (page + css + js, br)",
             f"{kb(page['total'])} (page {kb(page['page'])}, css {kb(page.get('css', 0))}, js {kb(page.get('js', 0))}; "
             f"WebAssembly: {'yes' if page['wasm'] else 'none'})", "—", "", "< 60 KB"),
        ]
    if "core" in r:
        core, js, boto = r["core"], r["js"], r["boto3"]
        rows += [
            ("one upload grant in-process (key, token, POST policy)",
             f"{core['grant_upload']:.2f} µs (policy alone {core['post_policy']:.2f} µs)",
             f"JS v3 createPresignedPost {js['createPresignedPost_us']:.0f} µs; boto3 generate_presigned_post {boto['generate_presigned_post_us']:.0f} µs",
             f"{js['createPresignedPost_us'] / core['grant_upload']:.0f}× / {boto['generate_presigned_post_us'] / core['grant_upload']:.0f}× faster",
             "≤ 3 µs"),
            ("one presigned download URL in-process",
             f"{core['presign_get']:.2f} µs (aws-sdk-s3 presigner {core['presign_get_aws_sdk']:.1f} µs)",
             f"JS v3 getSignedUrl {js['getSignedUrl_us']:.0f} µs; boto3 generate_presigned_url {boto['generate_presigned_url_us']:.0f} µs",
             f"{js['getSignedUrl_us'] / core['presign_get']:.0f}× / {boto['generate_presigned_url_us'] / core['presign_get']:.0f}× faster",
             "≤ 5 µs"),
            ("token verify in-process", f"{core['token_verify']:.2f} µs", "—", "", "—"),
        ]
    if "large_file" in r:
        rows += large_file_rows(r["large_file"])
    headers = ("what", "Courier", "peer, same run", "ratio", "aim")
    print("| " + " | ".join(headers) + " |")
    print("| " + " | ".join("---" for _ in headers) + " |")
    if "encryption" in r:
        rows += encryption_rows(r["encryption"])
        if "baseline" in r["encryption"]:
            rows += encryption_rows(r["encryption"]["baseline"], f" — baseline, {r['encryption']['baseline']['site']}")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    for aim, met, reason in aims(r):
        if not met:
            print(f"\nAim not met: {aim}. {reason}")
    if "large_file" in r:
        print(f"\nLarge file: {r['large_file']['measured']}")
    print(f"\nRaw figures: {TARGET / 'bench-results.json'}")


BROWSER_NAMES = {"chromium": "Chromium", "firefox": "Firefox (ESR)", "webkit": "WebKit (WebKitGTK)"}


def encryption_rows(e, label=""):
    up_p, up_s = e["upload_plain"], e["upload_sealed"]
    gib = e["bytes"] / (1024 * MIB)
    page = lambda run: round(run["client_cpu_by_process"].get("page", 0.0) / gib, 2)
    rows = [
        (f"encrypted upload through the page, {mb(e['bytes'])} behind {e['link_mbit']} Mbit/s (MB/s; "
         f"the browser's CPU per GiB, the page's thread's in it){label}",
         f"{up_s['mb_per_s']} MB/s; {up_s['client_cpu_s_per_gib']} s/GiB ({page(up_s)})",
         f"plain: {up_p['mb_per_s']} MB/s; {up_p['client_cpu_s_per_gib']} s/GiB ({page(up_p)})",
         f"{e['upload_ratio']}x", "≥ 0.9x"),
    ]
    # Each path against the plain download in the same browser, on loopback and then
    # behind the link (Chromium and Firefox: WebKit's has no "_link" figures).
    for link in ("", "_link"):
        for way, path, plain in (("", "Chromium through the service worker", ""),
                                 ("_picker", "Chromium through the save-file picker", ""),
                                 ("_firefox", "Firefox (ESR) through the service worker", "_firefox"),
                                 ("_webkit", "WebKit (WebKitGTK) through the service worker", "_webkit")):
            down_s, down_p = e.get("download_sealed" + way + link), e.get("download_plain" + plain + link)
            if not down_s or not down_p:
                continue
            ratio = f"{e['download_ratio' + way + link]}x"
            if link:
                rows.append(
                    (f"the same, behind a {e['link_mbit']} Mbit/s link (bench/link-proxy.mjs, every response "
                     f"through it), {path} (MB/s){label}",
                     f"{down_s['mb_per_s']} MB/s",
                     f"plain, in the same browser, behind the link: {down_p['mb_per_s']} MB/s", ratio, "≥ 0.9x"))
            else:
                rows.append(
                    (f"encrypted download through the share page, decrypted to disk, {mb(e['bytes'])}, {path} (MB/s; "
                     f"the server's CPU per GiB, its embedded store serving the object){label}",
                     f"{down_s['mb_per_s']} MB/s; {down_s.get('server_cpu_s_per_gib', '?')} s/GiB",
                     f"plain, in the same browser: {down_p['mb_per_s']} MB/s; "
                     f"{down_p.get('server_cpu_s_per_gib', '?')} s/GiB", ratio, "≥ 0.9x"))
    for browser, ceiling in e.get("ceilings", {}).items():
        speed = lambda variant: ceiling[variant]["median_mb_per_s"]
        ratios = ceiling["ratios"]
        # Not measured in WebKit (download-ceiling.mjs says why).
        posted = "worker_posted" in ceiling
        rows.append(
            (f"{BROWSER_NAMES[browser]}'s own ceiling for a download a page makes, {mb(ceiling['bytes'])} from a bare "
             f"loopback server (bench/download-ceiling.mjs): a service worker's stream made from nothing "
             f"(64 KiB chunks), passing a fetch's body through, reading it in JS and handing it on; the page "
             f"reading it alone; the page saving it from a Blob of what it read (no worker, no picker)"
             + ("; the page fetching it and posting it to the worker" if posted else ""),
             f"{speed('worker_made')} / {speed('worker_passthrough')} / {speed('worker_read')} MB/s; "
             f"{speed('page_read')} MB/s; {speed('page_blob')} MB/s"
             + (f"; {speed('worker_posted')} MB/s" if posted else ""),
             f"its plain download: {speed('plain')} MB/s",
             f"{ratios['worker_made']}x / {ratios['worker_passthrough']}x / {ratios['worker_read']}x; "
             f"{ratios['page_read']}x; {ratios['page_blob']}x" + (f"; {ratios['worker_posted']}x" if posted else ""),
             "—"))
    for key, way in (("big_download_sealed", "Chromium's service worker"),
                     ("big_download_sealed_picker", "Chromium's save-file picker")):
        big = e.get(key)
        if not big:
            continue
        rows.append(
            (f"a {mb(e['big_bytes'])} encrypted download through {way}: the tab's memory at its peak (its "
             f"renderers' own memory, USS; the page's and the service worker's JS heaps; the renderers' RSS){label}",
             f"{big['renderers_private_peak_mib']} MiB; {big['page_heap_peak_mib']} + {big['worker_heap_peak_mib']} MiB; "
             f"{big['renderers_rss_peak_mib']} MiB ({big['mb_per_s']} MB/s)",
             f"before: {big['renderers_private_before_mib']} MiB; {big['page_heap_before_mib']} MiB; "
             f"{big['renderers_rss_before_mib']} MiB", "—", "< 200 MiB"))
    for key, browser, process, field in (
            ("big_download_sealed_firefox", "Firefox (ESR)", "web content process", "content_private"),
            ("big_download_sealed_webkit", "WebKit (WebKitGTK)", "web process", "web_private")):
        big = e.get(key)
        if not big:
            continue
        rows.append(
            (f"a {mb(e['big_bytes'])} encrypted download in {browser} through the service worker: the largest "
             f"{process}'s own memory (USS) at its peak; all of theirs{label}",
             f"{big[field + '_peak_mib']} MiB; {big['all_' + field + '_peak_mib']} MiB ({big['mb_per_s']} MB/s)",
             f"before: {big[field + '_before_mib']} MiB; {big['all_' + field + '_before_mib']} MiB", "—",
             "< 200 MiB"))
    return rows


def first_load_reason(r):
    floor = r.get("leptos_floor")
    reason = ""
    if floor:
        reason = (f"The smallest Leptos island page sends {kb(floor['brotli_bytes'])} (wasm "
                  f"{kb(floor['wasm_brotli_bytes'])}, js {kb(floor['js_brotli_bytes'])}), so Leptos itself "
                  "leaves room under the aim: the rest is Courier's. ")
    modules = r["first_load"].get("modules", {})
    page, uploader = modules.get("page"), modules.get("uploader")
    if page and uploader:
        reason += (f"The bundle is split: the page's module (the form) is {kb(page['brotli_bytes'])} br "
                   f"({kb(page['bytes'])} raw), and the uploader's (cards, uploads, resume; "
                   f"{kb(uploader['brotli_bytes'])} br) comes with the first files, so it is not in this "
                   "figure; before the split the first load was 147.6 KB. ")
    return reason + (
        "The first load also counts the page and the response headers of five requests on HTTP/1.1 "
        "(Uppy's figure is its JS and CSS alone, without HTML or headers), and the split loader; "
        "what is over the aim is the page's module beyond Leptos' floor (the form's views: every "
        "reactive closure instantiates its own render effect and hydration code).")


def aims(r):
    """Issue 10's aims (and issue 11's for the large file), each with what
    stands in the way when it is missed; only those of the sections measured."""
    found = []
    if "first_load" in r:
        first = r["first_load"]
        found += [
            ("first load under 82 KB", first["first_visit_bytes"] < 82_000, first_load_reason(r)),
            ("no asset bytes on a repeat visit", first["repeat_visit_asset_bytes"] == 0,
             "An asset was downloaded or revalidated again: every hashed /pkg/ asset is sent immutable, "
             "and the split bundle's files that name one another are named by their final content "
             "(tools/bundle-seal); check the repeat visit's requests and their Cache-Control."),
        ]
    if "sign_upload" in r:
        sign = r["sign_upload"]
        found.append(
            ("sign_upload at 20k req/s, p99 under 3 ms", sign["rps"] >= 20_000 and sign["p99_ms"] < 3,
             "wrk shares the 2 cores with the server (and with anything else running): "
             "the server's own profile is flat (allocation, syscalls, hyper)."))
    if "share_download" in r:
        down, page = r["share_download"], r["share_page"]
        found += [
            ("a share's download redirect at 10k req/s, p99 under 5 ms",
             down["rps"] >= 10_000 and down["p99_ms"] < 5,
             "Each redirect is one counting UPDATE (SQLite: in a batch, one statement for the downloads "
             "of one file that fit under its limit) and a presigned GET; wrk shares the 2 cores."),
            ("a share page's first load under 60 KB", page["total"] < 60_000 and not page["wasm"],
             "The share page is rendered on the server and loads no WebAssembly: check what it links."),
        ]
    if "core" in r:
        core = r["core"]
        found += [
            ("one grant within 3 µs", core["grant_upload"] <= 3,
             "What is left is mostly the work itself: the two HMAC-SHA256 passes (the policy's ~1 KB of "
             "base64, and the token) are about 30% of it, at the speed of the CPU's SHA instructions; then "
             "a fresh key, the policy's JSON and its base64, and the form's ten fields."),
            ("one presigned GET within 5 µs", core["presign_get"] <= 5, "Unexpected: profile presign_get."),
        ]
    if "large_file" in r:
        found += large_file_aims(r["large_file"])
    if "encryption" in r:
        e = r["encryption"]
        found += [
            ("an encrypted upload at 0.9x the plain one's rate behind the link", e["upload_ratio"] >= 0.9,
             "Sealing runs in the page's sealing worker (WebCrypto, 64 KiB records, a part's records at "
             "once): compare the two runs' browser CPU per GiB, and the page's thread's."),
            ("an encrypted download decrypted to disk at 0.9x a plain download in the same browser, through each path",
             all(e[key] >= 0.9 for key in ("download_ratio", "download_ratio_picker", "download_ratio_firefox",
                                           "download_ratio_webkit") if key in e),
             "On this 2-core machine the browser's ways to stream to disk are the limit, not decryption "
             "(issue 29; this run's ceiling rows measure each browser's: a service worker's stream made "
             "from nothing, with no Courier and no decryption in it, below 0.9x its plain download means "
             "no decrypting download can reach it there; measured side by side before, plain downloads at "
             "492-554 MB/s). Service worker: its "
             "answer alone (the object passed through, nothing decrypted) went at 259-260 MB/s, as fast "
             "as the decrypting one, and a stream it made from nothing at 413-474 MB/s. Save-file picker: "
             "the page fetching and decrypting without writing went at 664-672 MB/s, and writing the "
             "ciphertext undecrypted through the writable stream, 8 MiB a write, at 303-315 MB/s. Firefox "
             "(ESR 140, service worker only) went at 0.3-0.52x its own plain download (its stream made "
             "from nothing: 0.34-0.65x); joining the records into 1 MiB chunks made no difference there. "
             "WebKit (WebKitGTK 2.50, service worker only) is the other way round: its own plain download "
             "is the slow one (65-69 MB/s), and the encrypted one went at 1.5x it on 2026-12-07. Behind "
             "the link (the rows \"behind a ... link\"), Chromium kept up by both paths on 2026-12-07 "
             "(0.993x, 0.96x) and Firefox did not (0.596x)."),
            ("a 4 GiB encrypted download with the tab under 200 MiB, through each path",
             all(e[key]["renderers_private_peak_mib"] < 200
                 for key in ("big_download_sealed", "big_download_sealed_picker") if key in e)
             and e.get("big_download_sealed_firefox", {}).get("content_private_peak_mib", 0) < 200
             and e.get("big_download_sealed_webkit", {}).get("web_private_peak_mib", 0) < 200,
             "The tab's own memory (USS of its renderers) grew during the download: bench/memory-dump.mjs "
             "shows where (DUMP_CLASSES=1: Blink's heap by class). A fetch's body read ahead of the page "
             "(blink::HeapVectorBacking<char>) means the store's answer was not no-store; WebCrypto's "
             "answers wait for a full collection. WebKit (WebKitGTK 2.50) reads a fetch's body ahead of "
             "its reader, into chunks of its own (its bodies are no byte streams): read whole, the 4 GiB "
             "file held 4.4 GiB; read in 16 MiB ranges, 324-351 MiB; in 4 MiB ranges (what the page asks "
             "WebKit for now), 212-303 MiB. JSC_logGC=1 shows the rest waiting for JavaScriptCore's "
             "full collections, which come once 75-125 MB of the records' buffers have piled up."),
        ]
    return found


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""`make bench`: Courier's figures next to its peers', measured in one run.

- the signing core in-process (criterion), next to boto3 and the AWS SDK for
  JavaScript v3 doing the same work in their own process;
- `sign_upload` and `/confirm-upload` over HTTP (wrk, rate limit off, against
  the embedded store), next to Uppy Companion's S3 signing route;
- the first load as headless Chromium receives it (bytes on the wire, cold
  and repeat visit, time until the uploader is hydrated), next to Uppy's
  Dashboard + S3 plugin bundled with esbuild.

Every figure is a measurement of this run on this machine; the "aim" column
is issue 10's. Standard library only. Needs the release build (`make build`)
and the peers (`bench/peers/install`); the Makefile does both first.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / "peers"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
SITE_ROOT = ROOT / "target" / "site"
WRK_SECONDS = os.environ.get("BENCH_WRK_SECONDS", "10")
WRK_CONNECTIONS = "32"


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run_json(command, cwd=ROOT):
    """Runs a peer script that prints one JSON object."""
    log(" ".join(str(c) for c in command))
    out = subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True)
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

    def __init__(self):
        self.data_dir = tempfile.mkdtemp(prefix="courier-bench-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ,
                   LEPTOS_SITE_ADDR=f"127.0.0.1:{self.port}",
                   LEPTOS_SITE_ROOT=str(SITE_ROOT),
                   LEPTOS_ENV="PROD",
                   COURIER_EMBEDDED_S3_ADDR="127.0.0.1:0",
                   COURIER_DATA_DIR=self.data_dir,
                   COURIER_RATE_LIMIT_PER_MINUTE="0",
                   RUST_LOG="warn")
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
        body = "filename=bench.txt&content_type=text%2Fplain&size=5"
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
        return f"{self.base}/confirm-upload?token={link['token']}&bucket={bucket}&key={link['key']}"


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


# --- the table ------------------------------------------------------------------

def ratio(theirs, ours):
    return f"{theirs / ours:.2f}× (peer / Courier)" if ours else "—"


def kb(n):
    return f"{n / 1000:.1f} KB"


def main():
    results = {"core": criterion()}
    results["js"] = run_json(["node", str(PEERS / "js_sdk.mjs")], cwd=PEERS)
    results["boto3"] = run_json([str(PEERS / ".venv" / "bin" / "python"), str(PEERS / "boto3_sign.py")], cwd=PEERS)
    results["uppy"] = run_json(["node", str(PEERS / "uppy_bundle.mjs")], cwd=PEERS)

    courier = Courier()
    try:
        results["sign_upload"] = wrk(f"{courier.base}/api/sign_upload", "POST",
                                     "filename=holiday%20photo.jpg&content_type=image%2Fjpeg&size=3500000",
                                     "application/x-www-form-urlencoded")
        results["confirm"] = wrk(courier.renewal_url(), headers={"Accept": "application/json"})
        results["first_load"] = run_json(["node", "bench/first-load.mjs", f"{courier.base}/", "5"],
                                         cwd=ROOT / "end2end")
    finally:
        courier.stop()
    results["companion"] = companion()

    (TARGET / "bench-results.json").write_text(json.dumps(results, indent=2))
    print_table(results)


def print_table(r):
    core, js, boto, uppy, first = r["core"], r["js"], r["boto3"], r["uppy"], r["first_load"]
    sign, confirm, comp = r["sign_upload"], r["confirm"], r["companion"]
    rows = [
        ("first load on the wire, cold cache (page + wasm + js + css, br)",
         kb(first["first_visit_bytes"]),
         f"Uppy Dashboard + S3, esbuild: {kb(uppy['brotli_bytes'])} br / {kb(uppy['gzip_bytes'])} gz (JS + CSS only)",
         ratio(uppy["brotli_bytes"], first["first_visit_bytes"]), "< 82 KB"),
        ("repeat visit: asset bytes on the wire",
         f"{first['repeat_visit_asset_bytes']} B (page {kb(first['repeat_visit_bytes'])})", "—", "", "0"),
        ("time until the uploader is hydrated, cold cache (median of 5)",
         f"{first['hydrated_ms_median']} ms", "—", "", "—"),
        ("sign_upload over HTTP, wrk -t1 -c32, rate limit off",
         f"{sign['rps']:,.0f} req/s, p50 {sign['p50_ms']:.2f} ms, p99 {sign['p99_ms']:.2f} ms",
         f"Uppy Companion S3 params: {comp['rps']:,.0f} req/s, p99 {comp['p99_ms']:.1f} ms",
         f"{sign['rps'] / comp['rps']:.0f}× the req/s",
         "≥ 20k req/s, p99 < 3 ms"),
        ("/confirm-upload (new link: HEAD + presigned GET) over HTTP",
         f"{confirm['rps']:,.0f} req/s, p50 {confirm['p50_ms']:.2f} ms, p99 {confirm['p99_ms']:.2f} ms", "—", "", "—"),
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
    headers = ("what", "Courier", "peer, same run", "ratio", "aim")
    print("| " + " | ".join(headers) + " |")
    print("| " + " | ".join("---" for _ in headers) + " |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    for aim, met, reason in aims(r):
        if not met:
            print(f"\nAim not met: {aim}. {reason}")
    print(f"\nRaw figures: {TARGET / 'bench-results.json'}")


def aims(r):
    """Issue 10's aims, each with what stands in the way when it is missed."""
    core, first, sign = r["core"], r["first_load"], r["sign_upload"]
    return [
        ("first load under 82 KB", first["first_visit_bytes"] < 82_000,
         "The wasm is about 110 KB brotli: Leptos' renderer (tachys, ~50 KB raw) and reactive graph "
         "(~30 KB), the upload state machine and its views (~47 KB), data segments (~37 KB). Next: load "
         "the card and link views after hydration (`#[lazy]` with `cargo leptos build --split`)."),
        ("no asset bytes on a repeat visit", first["repeat_visit_asset_bytes"] == 0,
         "An asset was downloaded again: check its Cache-Control."),
        ("sign_upload at 20k req/s, p99 under 3 ms", sign["rps"] >= 20_000 and sign["p99_ms"] < 3,
         "wrk shares the 2 cores with the server (and with anything else running): "
         "the server's own profile is flat (allocation, syscalls, hyper)."),
        ("one grant within 3 µs", core["grant_upload"] <= 3,
         "What is left is the work itself: two HMAC-SHA256 passes (the policy, ~1 KB, and the token), "
         "base64 of the policy, a fresh key and the wire type's map of ten form fields."),
        ("one presigned GET within 5 µs", core["presign_get"] <= 5, "Unexpected: profile presign_get."),
    ]


if __name__ == "__main__":
    main()

"""Test vectors for Courier's presigned GET signer (signer/src/presign.rs):
random cases signed by botocore, written to signer/tests/presign_vectors.json
for signer/tests/presign_vectors.rs.

Each case fixes the signing time (botocore's clock is patched), region,
credentials (a session token in about a third), bucket URL (path style on a
loopback port or [::1], or virtual-hosted on an AWS host), key (ASCII
punctuation, spaces, unicode, slashes between non-empty segments), an
optional response-content-disposition and the expiry, and records botocore's
URL. Deterministic (seeded): rerunning gives the same file for the same
botocore.

  bench/peers/.venv/bin/python bench/peers/botocore_vectors.py [N] [SEED]
"""

import datetime
import json
import random
import sys
from pathlib import Path

import botocore
import botocore.auth
import botocore.session
from botocore.config import Config

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else 10
OUT = Path(__file__).resolve().parents[2] / "signer" / "tests" / "presign_vectors.json"

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "garage"]
AWS_REGIONS = REGIONS[:3]
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
KEY_CHARS = ALNUM + " !*'()&$@=;:+,?#[]%.-_~" + "éüÅß名字ファイル🙂😀∑"
DISPOSITION_CHARS = ALNUM + " \"';=,%/\\-_.*é名🙂\t"

rng = random.Random(SEED)

# botocore reads the time through `botocore.auth.get_current_datetime` (from
# botocore.compat: `datetime.now(timezone.utc)` with the tzinfo removed).
signing_time = None
botocore.auth.get_current_datetime = lambda remove_tzinfo=True: (
    signing_time if remove_tzinfo else signing_time.replace(tzinfo=datetime.timezone.utc)
)


def text(chars, lo, hi):
    return "".join(rng.choice(chars) for _ in range(rng.randint(lo, hi)))


def random_key():
    segments = [text(KEY_CHARS, 1, 12) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.05:  # "." and ".." segments: S3 keeps them, URL parsers may not
        segments.insert(rng.randrange(len(segments)), rng.choice([".", ".."]))
    return "/".join(segments)


def random_bucket_url(bucket):
    """(region, endpoint_url, addressing style, the bucket URL Courier is given)"""
    style = rng.choice(["loopback", "loopback", "ipv6", "aws"])
    if style == "aws":
        region = rng.choice(AWS_REGIONS)
        return region, f"https://s3.{region}.amazonaws.com", "virtual", f"https://{bucket}.s3.{region}.amazonaws.com"
    endpoint = f"http://127.0.0.1:{rng.randint(1024, 65535)}" if style == "loopback" else "http://[::1]:3900"
    return rng.choice(REGIONS), endpoint, "path", f"{endpoint}/{bucket}"


def random_case():
    at = datetime.datetime(2020, 1, 1) + datetime.timedelta(seconds=rng.randrange(10 * 365 * 86400))
    bucket = rng.choice("abcdefghijklmnopqrstuvwxyz") + text("abcdefghijklmnopqrstuvwxyz0123456789-", 2, 20) + "b"
    region, endpoint, addressing, bucket_url = random_bucket_url(bucket)
    access_key_id = "AKIA" + text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 16)
    secret = text(ALNUM + "/+", 40, 40)
    token = text(ALNUM + "/+=", 20, 200) if rng.random() < 1 / 3 else None
    disposition = None
    if rng.random() < 0.6:
        name = text(DISPOSITION_CHARS, 1, 30)
        disposition = rng.choice([f'attachment; filename="{name}"', f"inline; filename*=UTF-8''{name}", name])
    expires = rng.choice([1, 60, 900, 3600, 86400, 604800, rng.randint(1, 604800)])
    return dict(at=at, bucket=bucket, region=region, endpoint=endpoint, addressing=addressing,
                bucket_url=bucket_url, access_key_id=access_key_id, secret=secret, token=token,
                key=random_key(), disposition=disposition, expires=expires)


def edge_cases():
    """A few chosen on purpose, after the random ones. The same credentials
    and region sign either side of UTC midnight and on a leap day, so a
    signer that caches the day's key (as Courier's does, when the test reuses
    its identity) is checked across the day change."""
    base = random_case() | dict(endpoint="http://127.0.0.1:3900", addressing="path", region="garage",
                                bucket="courier", bucket_url="http://127.0.0.1:3900/courier", token=None)
    t = datetime.datetime
    return [
        base | dict(at=t(2024, 2, 28, 23, 59, 59), key="a.txt"),
        base | dict(at=t(2024, 2, 29, 0, 0, 0), key="a.txt"),
        base | dict(at=t(2024, 2, 29, 23, 59, 59), key="a.txt", disposition=""),
        base | dict(at=t(2024, 3, 1, 0, 0, 1), key="a.txt", expires=604800),
        base | dict(key="tab\tnewline\ncontrol\x7f\x01", expires=1),
        base | dict(key="名" * 341 + "x"),  # 1024 bytes, S3's longest key
        base | dict(key="!*'()&$@=;:+,?#[]%/%25/%2F/+/ /~-._", disposition="\"';=,%2F%"),
        base | dict(token="=", disposition="🙂"),
        base | dict(token="+/=" * 100, disposition='attachment; filename="a\\b.txt"'),
    ]


session = botocore.session.get_session()
cases = []
for case in [random_case() for _ in range(N)] + edge_cases():
    signing_time, bucket, region, endpoint, addressing, bucket_url = (
        case[k] for k in ["at", "bucket", "region", "endpoint", "addressing", "bucket_url"])
    access_key_id, secret, token, key, disposition, expires = (
        case[k] for k in ["access_key_id", "secret", "token", "key", "disposition", "expires"])

    client = session.create_client(
        "s3", region_name=region, endpoint_url=endpoint,
        aws_access_key_id=access_key_id, aws_secret_access_key=secret, aws_session_token=token,
        config=Config(signature_version="s3v4", s3={"addressing_style": addressing}),
    )
    params = {"Bucket": bucket, "Key": key}
    if disposition is not None:
        params["ResponseContentDisposition"] = disposition
    url = client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)
    assert url.startswith(bucket_url + "/"), (url, bucket_url)
    assert f"&X-Amz-Date={signing_time:%Y%m%dT%H%M%SZ}&" in url, "botocore did not sign at the patched time"
    cases.append({
        "at": signing_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "access_key_id": access_key_id,
        "secret_access_key": secret,
        "session_token": token,
        "bucket_url": bucket_url,
        "key": key,
        "content_disposition": disposition,
        "expires_in": expires,
        "url": url,
    })

OUT.write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")
print(json.dumps({"cases": len(cases), "botocore": botocore.__version__, "out": str(OUT)}))

"""boto3 doing Courier's signing work in-process: generate_presigned_post for a
POST policy like Courier's upload grant, generate_presigned_url for a download
link (GetObject with response-content-disposition). Prints the mean µs per call
of each as one JSON object:
  {"generate_presigned_post_us": …, "generate_presigned_url_us": …}
Nothing is sent anywhere: the client only signs.
"""

import json
import os
import sys
import time
import uuid

import boto3
from botocore.config import Config

SECONDS = float(os.environ.get("BENCH_PEER_SECONDS", "2"))
SIZE = 3_500_000

client = boto3.client(
    "s3",
    endpoint_url="http://127.0.0.1:9000",
    region_name="us-east-1",
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
)


def presigned_post():
    return client.generate_presigned_post(
        Bucket="courier",
        Key=f"uploads/{uuid.uuid4()}/holiday photo.jpg",
        Fields={
            "Content-Type": "image/jpeg",
            "acl": "private",
            "success_action_redirect": "http://127.0.0.1:3000/confirm-upload?token=bench",
            "x-amz-meta-filename": "holiday photo.jpg",
        },
        Conditions=[
            {"Content-Type": "image/jpeg"},
            {"acl": "private"},
            {"success_action_redirect": "http://127.0.0.1:3000/confirm-upload?token=bench"},
            {"x-amz-meta-filename": "holiday photo.jpg"},
            ["content-length-range", SIZE, SIZE],
        ],
        ExpiresIn=900,
    )


def presigned_url():
    return client.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": "courier",
            "Key": "files/0123456789abcdef/holiday photo.jpg",
            "ResponseContentDisposition": "attachment; filename=\"holiday photo.jpg\"; filename*=UTF-8''holiday%20photo.jpg",
        },
        ExpiresIn=86400,
    )


def mean_us(name, f):
    """Mean µs per call over about SECONDS, after a warm-up of a quarter of that."""
    end = time.perf_counter() + SECONDS / 4
    while time.perf_counter() < end:
        f()
    n = 0
    start = time.perf_counter()
    end = start + SECONDS
    while time.perf_counter() < end:
        for _ in range(16):
            f()
        n += 16
    us = (time.perf_counter() - start) * 1e6 / n
    print(f"boto3_sign: {name}: {n} calls, {us:.1f} µs each", file=sys.stderr)
    return us


print("boto3_sign: sample", presigned_post(), presigned_url(), file=sys.stderr)
print(json.dumps({
    "generate_presigned_post_us": mean_us("generate_presigned_post", presigned_post),
    "generate_presigned_url_us": mean_us("generate_presigned_url", presigned_url),
}))

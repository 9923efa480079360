"""Keep every run's output where the monthly drill's pod cannot lose it: an S3 prefix (boto3), and read it
back for ``gameday report`` and ``gameday history``.

Each run goes to its own folder under the prefix, ``<drill>-<UTC start>-<run id>/``, so a monthly series
accumulates there and ``gameday history s3://bucket/prefix`` sees all of it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from gameday.errors import ConfigError

__all__ = ["parse_s3_url", "upload_run", "run_folder", "download_prefix", "is_s3", "local_copy"]

_FILES = ("journal.jsonl", "ledger.txt", "report.json", "report.md", "report.html", "junit.xml", "summary.json",
          "timeline.svg", "score.md")
CACHE = Path(".gameday/s3")


def is_s3(location: str) -> bool:
    return location.startswith("s3://")


def parse_s3_url(url: str, *, field: str = "--upload") -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket/prefix``; ConfigError for anything else."""
    if not is_s3(url):
        raise ConfigError(f"expected s3://BUCKET/PREFIX, got {url!r}", field=field)
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if not bucket or any(c in bucket for c in " :\\"):
        raise ConfigError(f"no bucket in {url!r}: expected s3://BUCKET/PREFIX", field=field)
    return bucket, prefix.strip("/")


def _client(aws: Any = None) -> Any:
    """S3 through the environment's session (its ``profile`` / ``role_arn``) when the run was on AWS, else the
    usual credential chain; the endpoint follows AWS_ENDPOINT_URL (boto3 >= 1.28)."""
    if aws is not None:
        from gameday.targets.aws.session import AwsSession

        return AwsSession(aws).client("s3")
    import boto3

    return boto3.client("s3")


def _boundary(what: str) -> Any:
    """The AWS driver's one error boundary (imported when S3 is used: the CLI starts without boto3)."""
    from gameday.targets.aws.session import boundary

    return boundary(what)


def run_folder(out_dir: Path) -> str:
    """``<drill>-<UTC start>-<run id>`` from the run's journal (its first line: drill.start)."""
    first = json.loads((out_dir / "journal.jsonl").read_text().splitlines()[0])
    v = first.get("value", {})
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(first.get("t_wall", time.time())))
    return f"{v.get('drill') or v.get('experiment') or 'run'}-{stamp}-{v.get('run_id', 'x')}"


def upload_run(out_dir: Path, destination: tuple[str, str], aws: Any = None) -> list[str]:
    """Put the run's journal, ledger and reports under the prefix; return their s3:// URLs. ``aws``: the
    environment's AwsSettings, whose session (profile, role) uploads."""
    bucket, prefix = destination
    folder = "/".join(p for p in (prefix, run_folder(out_dir)) if p)
    with _boundary("the environment's AWS session"):
        s3 = _client(aws)
    urls: list[str] = []
    for path in sorted(p for p in out_dir.iterdir() if p.is_file() and (p.name in _FILES or p.suffix == ".svg")):
        key = f"{folder}/{path.name}"
        with _boundary(f"upload of {path} to s3://{bucket}/{key}"):
            s3.upload_file(str(path), bucket, key)
        urls.append(f"s3://{bucket}/{key}")
    return urls


def download_prefix(url: str, dest: Path = CACHE) -> Path:
    """Every object under ``s3://bucket/prefix`` copied below ``dest`` (kept as a cache); the local folder."""
    bucket, prefix = parse_s3_url(url, field="FOLDER")
    local = dest / bucket / prefix
    s3 = _client()
    with _boundary(f"reading {url}"):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/" if prefix else "")
        keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
        for key in keys:
            target = dest / bucket / key
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(target))
    if not keys:
        raise ConfigError(f"nothing under {url}", field="FOLDER")
    return local


def local_copy(location: str) -> Path:
    """A local path for a folder or file given locally or as s3:// (downloaded; a file's whole folder)."""
    if not is_s3(location):
        return Path(location)
    if location.endswith((".jsonl", ".json")):
        folder = download_prefix(location.rsplit("/", 1)[0])
        return folder / location.rsplit("/", 1)[1]
    return download_prefix(location)

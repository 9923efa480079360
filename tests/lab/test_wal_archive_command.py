"""The lab's archive_command, run as PostgreSQL runs it (``sh -c`` with %p and %f filled in): a segment lands
whole; the same segment asked for again after a crash (already archived, same bytes) is success, or archiving
would stop for good and every later restore would wait for a latest restorable time that never comes; a
different segment under the same name is refused. No server: the command alone."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gameday.lab.postgres import _ARCHIVE

SEG = "000000170000000000000144"


def _archive(data: Path, archive: Path) -> int:
    cmd = _ARCHIVE.format(a=archive).replace("%p", f"pg_wal/{SEG}").replace("%f", SEG)
    return subprocess.run(["sh", "-c", cmd], cwd=data).returncode


def _setup(tmp_path: Path, content: bytes) -> tuple[Path, Path]:
    data, archive = tmp_path / "data", tmp_path / "wal"
    (data / "pg_wal").mkdir(parents=True)
    archive.mkdir()
    (data / "pg_wal" / SEG).write_bytes(content)
    return data, archive


def test_a_segment_is_archived_whole_and_archiving_it_again_after_a_crash_succeeds(tmp_path):
    data, archive = _setup(tmp_path, b"wal" * 1000)
    assert _archive(data, archive) == 0 and (archive / SEG).read_bytes() == b"wal" * 1000
    assert [p.name for p in archive.iterdir()] == [SEG], "no temporary file left"
    assert _archive(data, archive) == 0, "the same bytes again: done, so the archiver moves on"


def test_different_bytes_under_an_archived_name_are_refused_and_the_archive_is_untouched(tmp_path):
    data, archive = _setup(tmp_path, b"new timeline's bytes")
    (archive / SEG).write_bytes(b"the first copy")
    assert _archive(data, archive) != 0
    assert (archive / SEG).read_bytes() == b"the first copy"

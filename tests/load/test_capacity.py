"""``gameday load capacity`` against loopback services (no lab): a one-worker service with a hard capacity has
its knee found within 15 % and drawn where it is (headless Chromium), a generator capped too low is
INCONCLUSIVE naming the workers it needs, never a knee; ``gameday report`` rebuilds the run from its journal."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from test_gate_verdicts import STEADY, _server, _words

from conftest import ROOT
from gameday.cli import main
from gameday.report.capacity import LEFT, RIGHT, W

pytestmark = pytest.mark.serial  # a starved generator is (rightly) INCONCLUSIVE: no other test beside it

ONE_WORKER = str(ROOT / "tests" / "services" / "one_worker.py")
FAILING = str(ROOT / "tests" / "services" / "failing_service.py")
SERVICE_MS = 5.0  # the one worker's service time: at most 200 requests/s
TRUE_RATE = 1000 / SERVICE_MS


@pytest.fixture(autouse=True)
def _in_checkout(monkeypatch):
    monkeypatch.chdir(ROOT)


def _capacity(out: Path, host: str, *args: str) -> tuple[int, dict]:
    with pytest.raises(SystemExit) as info:
        main(["load", "capacity", STEADY, "--host", host, "--out", str(out), "--stair", "2", *args])
    return int(info.value.code or 0), json.loads((out / "summary.json").read_text())


def _png_rgb(path: Path) -> tuple[int, int, list[bytearray]]:
    """Width, height and rows of RGB(A) bytes of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    data = path.read_bytes()
    pos, idat, width, height, depth, ctype = 8, b"", 0, 0, 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    assert depth == 8 and ctype in (2, 6), "an 8-bit RGB or RGBA screenshot"
    bpp = 3 if ctype == 2 else 4
    raw, stride, rows = zlib.decompress(idat), width * bpp, []
    prev = bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a, b = line[i - bpp] if i >= bpp else 0, prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pred = {0: 0, 1: a, 2: b, 3: (a + b) // 2,
                    4: a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c)
                    else c}[f]
            line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prev = line
    return width, bpp, rows


def _knee_columns(png: Path) -> list[int]:
    """Columns of the screenshot with a long run of the knee's red (#d62728): a vertical line."""
    width, bpp, rows = _png_rgb(png)
    counts = [0] * width
    for line in rows:
        for x in range(width):
            r, g, b = line[x * bpp], line[x * bpp + 1], line[x * bpp + 2]
            if abs(r - 214) < 25 and abs(g - 39) < 25 and abs(b - 40) < 25:
                counts[x] += 1
    return [x for x, n in enumerate(counts) if n >= 120]


def test_the_knee_of_a_one_worker_service_is_found_within_15_percent_and_drawn_there(tmp_path, capsys):
    with _server(ONE_WORKER, "--service-ms", str(SERVICE_MS)) as host:
        code, s = _capacity(tmp_path, host, "--start-rate", "100", "--max-rate", "400", "--resolution", "0.12",
                            "--slo", "p95<50ms", "--target", "1000000")
    assert code == 0 and s["verdict"] == "pass", s["reasons"]
    knee = s["capacity_rate"]
    assert abs(knee - TRUE_RATE) / TRUE_RATE <= 0.15, (knee, s["stairs"])
    assert s["first_failing"] > knee and s["first_failing"] / knee <= 1.12 + 1e-6, "narrowed to the resolution"
    first = next(r for r in s["stairs"] if r["offered_rate"] == s["first_failing"])
    assert any("p95<50ms" in r for r in first["reasons"]) and "p95<50ms" in s["reasons"][0]
    assert all(r["verdict"] == "pass" for r in s["stairs"] if r["offered_rate"] <= knee)
    over = max(s["stairs"], key=lambda r: r["offered_rate"])
    assert over["served_rate"] < 0.9 * over["offered_rate"], "past the knee the service carries its capacity only"
    assert s["projection"]["times"] == round(1_000_000 / knee, 2) and "linear projection" in s["projection"]["text"]
    printed = capsys.readouterr().out
    assert all(len(line) <= 80 for line in printed.splitlines()), "the table fits 80 columns"
    assert f"knee {knee:,.1f} events/s" in _words(printed)
    csv = (tmp_path / "stairs.csv").read_text().splitlines()
    assert csv[0].startswith("stair,offered_rate,served_rate") and len(csv) == len(s["stairs"]) + 1
    before = (tmp_path / "summary.json").read_text()
    with pytest.raises(SystemExit) as info:
        main(["report", str(tmp_path / "journal.jsonl")])
    assert info.value.code == 0 and (tmp_path / "summary.json").read_text() == before, "the journal is the truth"
    _check_the_picture(tmp_path, s)


def _check_the_picture(out: Path, s: dict) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium to look at the picture with (apt-get install chromium)")
    png = out / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png}", "--window-size=1000,700", (out / "report.html").as_uri()],
                   capture_output=True, timeout=60, check=False)
    assert png.exists(), "Chromium rendered the report"
    xmax = max(r["offered_rate"] for r in s["stairs"]) * 1.1
    expected = 24 + LEFT + s["capacity_rate"] / xmax * (W - LEFT - RIGHT)  # the page's margin, then the plot's x
    columns = _knee_columns(png)
    assert columns and all(abs(c - expected) <= 3 for c in columns), (columns, expected)


def test_a_generator_capped_too_low_is_inconclusive_naming_the_workers_never_a_knee(tmp_path, capsys):
    """100 ms per answer at 40/s needs 4 requests in flight; 2 connections hold the generator back."""
    with _server(FAILING, "--delay-ms", "100") as host:
        code, s = _capacity(tmp_path, host, "--start-rate", "40", "--max-rate", "400", "--max-connections", "2",
                            "--slo", "p95<300ms")
    assert code == 3 and s["verdict"] == "inconclusive", s["reasons"]
    assert s["capacity_rate"] is None and s["projection"] is None and len(s["stairs"]) == 1
    assert "the generator limited the test" in s["reasons"][0] and "--max-connections" in s["reasons"][0]
    need = s["reasons"][1]
    assert need.startswith("the next try needs at least 3 generator workers"), need
    assert "Little's law" in need and "gameday load plan --rate 40" in need
    assert "knee" not in _words(capsys.readouterr().out).replace("no knee", "")


def test_a_capacity_search_without_a_latency_slo_is_refused_before_anything_starts(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["load", "capacity", STEADY, "--host", "http://127.0.0.1:9", "--out", str(tmp_path / "o"),
              "--max-rate", "100", "--slo", "errors<1%"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--slo" in err and "latency SLO" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists(), "nothing started"

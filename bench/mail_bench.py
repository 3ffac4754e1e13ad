"""Mail scan benchmark: dataward scanning a generated mbox, beside Python's plain
``mailbox`` iteration with text extraction of the same file (the floor).

    python bench/mail_bench.py [--messages 5000] [--runs 3]

The mbox: --messages messages from a school's domain, a third of them to an outside
address, each with a body of school prose (planted UPNs, NHS numbers and roster names in
some) and one attachment (a CSV class list or a text note, base64-encoded).

- floor: ``mailbox.mbox`` iteration; for every part, ``get_payload(decode=True)`` and a
  decode to text. No classification: what any mail reader must do at least.
- dataward: ``run_scan`` of the mbox as a source of kind mbox (full scan, the Parquet
  outputs written): every message and attachment an item, sniffed, extracted, classified,
  the mail policy applied.
Medians of --runs runs; target: dataward within 5x of the floor.
"""
from __future__ import annotations

import argparse
import mailbox
import os
import random
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dataward.synthetic import make_nhs, make_pupils

PROSE = [
    "Thank you for your email about the trip to the science museum next Thursday.",
    "Please find attached the list for the parents' evening rota.",
    "The governors meet on Monday; the minutes will follow by the end of the week.",
    "Can you check the register for Year 4 before the end of the day?",
    "Swimming lessons continue for Year 4 until the end of the spring term.",
    "Reminder: PE kit is needed on Tuesdays and Thursdays this half term.",
]


def make_mbox(path: Path, n: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    pupils = make_pupils(200, seed=seed)
    roster = path.parent / "roster.csv"
    roster.write_text("Legal Forename,Legal Surname,UPN\n" + "".join(
        f"{p.forename},{p.surname},{p.upn}\n" for p in pupils), encoding="utf-8")
    box = mailbox.mbox(str(path), create=True)
    box.lock()
    now = datetime.now(UTC)
    for i in range(n):
        p = rng.choice(pupils)
        msg = EmailMessage()
        msg["From"] = "office@oakfield.sch.uk"
        msg["To"] = "parent@example.com" if i % 3 == 0 else "staff@oakfield.sch.uk"
        msg["Subject"] = rng.choice(["Trip", "Rota", "Minutes", f"{p.forename} {p.surname}"])
        msg["Date"] = format_datetime(now - timedelta(days=rng.randint(0, 1500)))
        msg["Message-ID"] = f"<{i}.bench@oakfield.sch.uk>"
        body = [rng.choice(PROSE) for _ in range(rng.randint(4, 12))]
        if i % 4 == 0:
            body.append(f"{p.forename}'s UPN is {p.upn} and NHS number {make_nhs(rng)}.")
        msg.set_content("\n".join(body))
        if i % 2:
            rows = "".join(f"{q.forename},{q.surname},{q.upn}\n" for q in rng.sample(pupils, 10))
            msg.add_attachment(("Forename,Surname,UPN\n" + rows).encode(), maintype="text",
                               subtype="csv", filename="class-list.csv")
        else:
            msg.add_attachment("\n".join(rng.choice(PROSE) for _ in range(20)).encode(),
                               maintype="application", subtype="octet-stream", filename="note.txt")
        box.add(msg)
    box.flush()
    box.unlock()
    box.close()
    return path.stat().st_size


def floor(path: Path) -> int:
    """Bare iteration plus text extraction; returns characters extracted."""
    chars = 0
    for msg in mailbox.mbox(str(path)):
        chars += len(str(msg.get("subject", "")))
        for part in msg.walk():
            if part.is_multipart():
                continue
            data = part.get_payload(decode=True) or b""
            chars += len(data.decode(part.get_content_charset() or "utf-8", errors="replace"))
    return chars


def dataward(path: Path, home: Path, roster: Path):
    os.environ["DATAWARD_HOME"] = str(home)
    from dataward.pipelines.scan import run_scan
    from dataward.settings import load_settings
    cfg = home / "bench.yaml"
    cfg.write_text(
        "school: {name: Oakfield, domains: [oakfield.sch.uk]}\n"
        f"sources:\n  - {{name: head, path: '{path}', kind: mbox, audience: staff}}\n"
        f"rosters:\n  - {{path: '{roster}', kind: pupils}}\n"
        # One mbox is one item read by one worker: give it the time a big mailbox needs.
        "scan: {item_timeout_s: 3600, item_memory_mb: 4096}\n", encoding="utf-8")
    return run_scan(load_settings(cfg), full=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dw-mail-bench-") as tmp:
        tmp = Path(tmp)
        path = tmp / "head.mbox"
        t = time.perf_counter()
        size = make_mbox(path, args.messages)
        mb = size / 1e6
        print(f"mbox: {args.messages} messages with attachments, {mb:.1f} MB "
              f"(made in {time.perf_counter() - t:.1f} s)")
        floors, ours, result = [], [], None
        for run in range(args.runs):
            t = time.perf_counter()
            floor(path)
            floors.append(time.perf_counter() - t)
            home = tmp / f"home{run}"
            home.mkdir()
            t = time.perf_counter()
            result = dataward(path, home, tmp / "roster.csv")
            ours.append(time.perf_counter() - t)
        f, d = statistics.median(floors), statistics.median(ours)
        n = args.messages
        print(f"{'':28} {'seconds':>8} {'messages/s':>11} {'MB/s':>7}")
        print(f"{'mailbox + text (floor)':28} {f:8.2f} {n / f:11.0f} {mb / f:7.2f}")
        print(f"{'dataward scan':28} {d:8.2f} {n / d:11.0f} {mb / d:7.2f}")
        print(f"dataward / floor: {d / f:.2f}x (target: within 5x); medians of {args.runs} runs")
        print(f"dataward items: {result.items}, findings: {result.findings}, "
              f"statuses: {result.by_status}")


if __name__ == "__main__":
    main()

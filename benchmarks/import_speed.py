"""Import speed and memory of `bots knowledge import` on a real docs site served locally.

Serves SQLite's HTML documentation (Debian's sqlite3-doc, about 770 pages) from 127.0.0.1
with Python's http.server in a child process (so the figures are the importer's alone), imports
it with the given concurrency and no delay, and prints one JSON object: pages, seconds (wall
and CPU), pages per second and peak RSS. A progress bar goes to stderr.

    python benchmarks/import_speed.py [--docs /usr/share/doc/sqlite3] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bots.app.knowledge_import_commands import _Bar
from bots.ingest.manifest import ImportOptions
from bots.ingest.run import run_import


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("the docs server did not start")


async def measure(args: argparse.Namespace, port: int) -> dict[str, object]:
    options = ImportOptions(
        source=f"http://127.0.0.1:{port}/{args.docs.name}/index.html",
        max_pages=1000,
        max_depth=10,
        concurrency=args.concurrency,
        delay_seconds=0.0,
        allow_private_network=True,
    )
    out = args.out or Path(tempfile.mkdtemp()) / "knowledge"
    bar = _Bar()
    wall, cpu = time.perf_counter(), time.process_time()
    report = await run_import(options, out / "sqlite", progress=bar)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    bar.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "benchmark": "import_speed",
        "site": str(args.docs),
        "pages": report.pages_fetched,
        "entries": report.entries_written,
        "skipped": len(report.skipped),
        "concurrency": args.concurrency,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "pages_per_second_wall": round(report.pages_fetched / wall, 1),
        "pages_per_second_cpu": round(report.pages_fetched / cpu, 1),
        "peak_rss_mib": round(rss / 1024, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=Path("/usr/share/doc/sqlite3"))
    parser.add_argument("--out", type=Path, help="knowledge folder to write (default: a temp one)")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if not (args.docs / "index.html").is_file():
        raise SystemExit(f"{args.docs}/index.html is missing: apt-get install sqlite3-doc")
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(args.docs.parent),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        figures = asyncio.run(measure(args, port))
    finally:
        server.terminate()
        server.wait()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

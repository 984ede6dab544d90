"""One table for every bench: each bench records its figures here, `python -m bench` prints them together.

A figure is a measurement with its target beside it and a pass/short mark. Benches run in their own processes
(each configures Django for its own database), so figures travel through a JSON-lines file named by the
`BENCH_RESULTS` environment variable; a bench run on its own (no file) only prints its own detail.
"""

import datetime as dt
import json
import os
import platform
import re
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS_ENV = "BENCH_RESULTS"
README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"


@dataclass
class Figure:
    bench: str  # which bench measured it, e.g. "pages"
    name: str  # what was measured, e.g. "dashboard p50, scale 1"
    value: str  # the measurement as printed, e.g. "47 ms (2.7× bare SQL)"
    target: str = ""  # e.g. "≤ 3×"; empty when the figure is only informative
    ok: bool | None = None  # None: no target


def record(bench: str, name: str, value: str, target: str = "", ok: bool | None = None) -> Figure:
    """Keep a figure for the table (when `python -m bench` collects them) and return it."""
    figure = Figure(bench=bench, name=name, value=value, target=target, ok=ok)
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(figure)) + "\n")
    return figure


def load(path) -> list[Figure]:
    lines = Path(path).read_text(encoding="utf-8").splitlines() if Path(path).exists() else []
    return [Figure(**json.loads(line)) for line in lines if line.strip()]


def mark(ok: bool | None) -> str:
    return "" if ok is None else ("pass" if ok else "SHORT")


def machine() -> str:
    cores = os.cpu_count() or 0
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    model = re.sub(r"\s+", " ", model)
    return f"{cores} cores ({model}), Python {platform.python_version()}, {platform.system()}"


def render(figures: list[Figure], *, services: str) -> str:
    """A Markdown table: readable in a terminal and in bench/README.md alike."""
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = [("bench", "figure", "measured", "target", "")]
    rows += [(f.bench, f.name, f.value, f.target, mark(f.ok)) for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [f"Measured {when} on {machine()}; {services}.", ""]
    for n, row in enumerate(rows):
        lines.append("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    short = sum(1 for f in figures if f.ok is False)
    met = sum(1 for f in figures if f.ok)
    lines += ["", f"{met} targets met, {short} short."]
    return "\n".join(lines)


def write_readme(table: str) -> None:
    """Put the table between the markers in bench/README.md (the rest of the file is left as written)."""
    text = README.read_text(encoding="utf-8") if README.exists() else f"# Benches\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text = text.rstrip() + f"\n\n## The table\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1] if END in rest else ""
    README.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}", encoding="utf-8")

"""Start-up cost of `inspect-cli --help` against bare `import typer, rich`.

The brief: the CLI should start about as fast as typer + rich themselves import, i.e. no
heavy module (openpyxl, Pillow, pypinyin, PyYAML) on the help path. Typer renders help
with Rich, which costs the same in any Typer app, so a two-command Typer app's `--help`
is measured too. All commands run alternately in fresh interpreters; the ratios of the
medians are what matter, since absolute times depend on the machine.

    .venv/bin/python bench/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TINY_APP = """
import typer
app = typer.Typer()
@app.command()
def hello(name: str) -> None:
    "Say hello."
@app.command()
def bye() -> None:
    "Say bye."
app()
"""

COMMANDS = {
    "import typer, rich": [sys.executable, "-c", "import typer, rich.console, rich.table"],
    "two-command Typer app --help": [sys.executable, "-c", TINY_APP, "--help"],
    "inspect-cli --help": [sys.executable, "-m", "inspect_cli", "--help"],
    "inspect-cli checklist list": [sys.executable, "-m", "inspect_cli", "--db", ":memory:", "checklist", "list"],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, argv in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["import typer, rich"])
    print(f"{'command':32} {'median ms':>10} {'ratio':>6}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:32} {median * 1000:10.1f} {median / base:6.2f}")


if __name__ == "__main__":
    main()

"""Start-up cost of `inspect-cli` against bare `import typer, rich`.

The goals (issue 13): `inspect-cli --help` within 1.3× and `inspect-cli checklist list`
within 2× of importing typer and rich, i.e. no heavy module on those paths, only the
invoked command's module loaded, and checklists read from the cache once parsed. Typer
renders help with Rich, which costs the same in any Typer app, so a two-command Typer
app's `--help` is measured too. All commands run alternately in fresh interpreters; the
ratios of the medians are what matter, since absolute times depend on the machine.

The package's bytecode is compiled first, as an installed wheel's is: with
PYTHONDONTWRITEBYTECODE set, an edited module would otherwise be compiled on every run.
`checklist list` runs with a cache warmed by one untimed run (as every run after the
first is), and once more with an empty cache each time (the first run, or after an edit).

    .venv/bin/python bench/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

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

CLI = [sys.executable, "-m", "inspect_cli"]
COMMANDS = {
    "import typer, rich": [sys.executable, "-c", "import typer, rich.console, rich.table"],
    "two-command Typer app --help": [sys.executable, "-c", TINY_APP, "--help"],
    "inspect-cli --help": [*CLI, "--help"],
    "inspect-cli issue --help": [*CLI, "issue", "--help"],
    "inspect-cli checklist list": [*CLI, "--db", ":memory:", "checklist", "list"],
    "inspect-cli checklist list, cold cache": [*CLI, "--db", ":memory:", "checklist", "list"],
}
COLD = "inspect-cli checklist list, cold cache"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    compileall.compile_dir(ROOT / "inspect_cli", quiet=1)
    with tempfile.TemporaryDirectory() as scratch:
        warm, cold = Path(scratch) / "warm", Path(scratch) / "cold"
        env = {**os.environ, "INSPECT_CLI_CACHE": str(warm)}
        subprocess.run(COMMANDS["inspect-cli checklist list"], stdout=subprocess.DEVNULL, env=env, check=True)
        times: dict[str, list[float]] = {name: [] for name in COMMANDS}
        for _ in range(runs):
            for name, argv in COMMANDS.items():
                if name == COLD:
                    shutil.rmtree(cold, ignore_errors=True)
                run_env = {**env, "INSPECT_CLI_CACHE": str(cold)} if name == COLD else env
                start = time.perf_counter()
                subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=run_env, check=True)
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["import typer, rich"])
    print(f"{'command':40} {'median ms':>10} {'ratio':>6}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:40} {median * 1000:10.1f} {median / base:6.2f}")


if __name__ == "__main__":
    main()

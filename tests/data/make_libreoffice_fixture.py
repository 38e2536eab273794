"""Regenerate tests/data/returned-libreoffice.xlsx: a 整改通知单 filled in and re-saved by LibreOffice.

Needs LibreOffice (`soffice`) on PATH; the test that uses the file does not. Run from the
repository root:

    .venv/bin/python tests/data/make_libreoffice_fixture.py

It builds the same city as `tests/test_excel.py`, exports the 城市管理局 sheet with a fixed
export id, fills it like a unit would (rows sorted differently, a column added), and lets
LibreOffice open and save it as .xlsx.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import DATA, Cli  # noqa: E402
from tests.test_excel import (  # noqa: E402
    FIXTURE_ID,
    TODAY,
    build_problem_city,
    export_fixture,
    fill,
    fixture_answers,
    numbers,
)


def main() -> None:
    os.environ["INSPECT_CLI_TODAY"] = TODAY
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cli = Cli(folder / "city.sqlite")
        cli.ok("site", "import", DATA / "sites.csv")
        build_problem_city(cli, folder)
        sheet = export_fixture(cli, folder / "out")
        first, second = numbers(cli, "城市管理局")
        filled = fill(
            sheet, fixture_answers(first, second), target=folder / "filled.xlsx", shuffle=True, extra_column=True
        )
        subprocess.run(
            ["soffice", "--headless", "--convert-to", "xlsx", "--outdir", str(folder / "lo"), str(filled)],
            check=True,
            capture_output=True,
            timeout=180,
        )
        shutil.copyfile(folder / "lo" / "filled.xlsx", DATA / "returned-libreoffice.xlsx")
    print(f"wrote {DATA / 'returned-libreoffice.xlsx'} (export id {FIXTURE_ID})")


if __name__ == "__main__":
    main()

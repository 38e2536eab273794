"""The notice's charts: PNG bytes that decode, at the size meant, in the colours of the lists,
the same for the same input; the font found or the reason why not; matplotlib loaded only
when a chart is drawn."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageColor

from inspect_cli import charts
from inspect_cli.charts import FontChoice, TrendPoint

# Without a Chinese font (a bare CI machine) the charts are drawn in DejaVu Sans: the glyphs
# are boxes, the layout and the colours are the same.
pytestmark = pytest.mark.filterwarnings("ignore:Glyph .* missing from font")

WIDTH_PX = round(charts.WIDTH_CM / 2.54 * charts.DPI)
PAGE_PX = round(charts.MAX_HEIGHT_CM / 2.54 * charts.DPI)
RED, BLACK, NEUTRAL = (ImageColor.getrgb(c) for c in (charts.RED, charts.BLACK, charts.NEUTRAL))
STREETS = [
    ("东城街道", 93.46),
    ("西城街道", 91.25),
    ("南湖街道", 90.05),
    ("北关街道", 88.7),
    ("新华街道", 87.15),
    ("解放路街道", 86.4),
    ("人民路街道", 84.95),
    ("城关镇", 81.3),
]
WEEKS = [
    TrendPoint("第5期", 86.2, 41, 55.0),
    TrendPoint("第6期", 87.9, 38, 61.3),
    TrendPoint("第7期", None, 0, None),
    TrendPoint("第8期", 89.4, 33, 70.2),
    TrendPoint("第9期", 90.1, 29, 76.5),
    TrendPoint("第10期", 91.7, 24, 80.0),
    TrendPoint("第11期", 90.8, 27, 92.6),
    TrendPoint("11月16日–22日", 92.5, 19, 88.4),
]


@pytest.fixture
def font():
    found = charts.find_font()
    if found is not None:
        return found
    import matplotlib

    return FontChoice("DejaVu Sans", Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    image.load()
    return image.convert("RGB")


def check_page_image(image: Image.Image) -> None:
    """Full width, white, not blank, and nothing cut at the edges (a clipped label would touch them)."""
    assert image.width == WIDTH_PX
    assert len(image.getcolors(maxcolors=1 << 20)) > 50
    band = 8
    for box in (
        (0, 0, band, image.height),
        (image.width - band, 0, image.width, image.height),
        (0, 0, image.width, band),
        (0, image.height - band, image.width, image.height),
    ):
        edge = image.crop(box)
        assert edge.getcolors() == [(edge.width * edge.height, (255, 255, 255))], box


def bar_colours(image: Image.Image) -> list[tuple[int, int, int]]:
    """The bars' colours from the top, read down a column just right of the y axis.

    Every bar starts at 0 %, on the axis line: the column of the longest line in the axis
    colour. Runs shorter than a few pixels are the edges of letters, not bars.
    """
    import numpy as np

    pixels = np.asarray(image)
    axis = np.all(pixels == ImageColor.getrgb(charts.MUTED), axis=2)
    x = int(np.argmax(axis.sum(axis=0)))
    rows = np.nonzero(axis[:, x])[0]
    fills = [RED, BLACK, NEUTRAL]
    runs: list[tuple[int, int, int]] = []
    length, current = 0, None
    for y in range(rows.min(), rows.max() + 2):
        here = next((c for c in fills if tuple(pixels[y, x + 4]) == c), None)
        if here != current:
            if current is not None and length >= 4:
                runs.append(current)
            length, current = 0, here
        length += 1
    return runs


# --- the ranking --------------------------------------------------------------------------


def test_a_ranking_is_a_png_a4_wide_at_200_dpi(font):
    png = charts.ranking_chart("各街道得分率排名", STREETS, 85, font=font)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.info["dpi"] == pytest.approx((charts.DPI, charts.DPI), abs=0.5)
    check_page_image(decode(png))


def test_red_list_on_top_black_list_below_the_bottom_three_and_the_threshold(font):
    rows = [("甲", 97.0), ("乙", 96.0), ("丙", 95.0), ("丁", 94.0), ("戊", 93.0)]
    rows += [("己", 84.0), ("庚", 83.0), ("辛", 82.0), ("壬", 81.0), ("癸", 80.0)]
    image = decode(charts.ranking_chart("排名", rows, 85, font=font))
    assert bar_colours(image) == [RED] * 3 + [NEUTRAL] * 2 + [BLACK] * 5
    # Without a threshold only the bottom three; all above it, the same.
    for threshold in (None, 50):
        image = decode(charts.ranking_chart("排名", rows, threshold, font=font))
        assert bar_colours(image) == [RED] * 3 + [NEUTRAL] * 4 + [BLACK] * 3


def test_bars_are_drawn_best_first_whatever_order_they_come_in(font):
    rows = [("丙", 80.0), ("甲", 99.0), ("戊", 60.0), ("乙", 90.0), ("丁", 70.0)]
    ranked = sorted(rows, key=lambda r: -r[1])
    assert charts.ranking_chart("排名", rows, None, font=font) == charts.ranking_chart("排名", ranked, None, font=font)
    image = decode(charts.ranking_chart("排名", rows, None, font=font, highlight_top=1, highlight_bottom=1))
    assert bar_colours(image) == [RED, NEUTRAL, NEUTRAL, NEUTRAL, BLACK]


def test_the_same_ranking_gives_the_same_bytes(font):
    first = charts.ranking_chart("各街道得分率排名", STREETS, 85, font=font)
    assert charts.ranking_chart("各街道得分率排名", STREETS, 85, font=font) == first
    assert b"Software" not in first and b"tIME" not in first
    assert charts.ranking_chart("各街道得分率排名（更正）", STREETS, 85, font=font) != first


@pytest.mark.parametrize(
    "rows",
    [
        [("市文明办", 88.0)],
        [(f"单位{i:02d}", 99 - i * 0.4) for i in range(60)],
        [("示范市城市管理综合行政执法局第十二分局", 91.0), ("示范市住房和城乡建设局高新区分局建管科", 79.5)],
        [(name, 90.0) for name in ("东城街道", "西城街道", "南湖街道", "北关街道", "新华街道")],
        [("示范市城市管理综合行政执法局高新技术产业开发区分局环境卫生管理科第三中队", 91.2), ("东城街道", 70.0)],
    ],
    ids=["one-row", "sixty-rows", "long-names", "equal-values", "very-long-name"],
)
def test_any_ranking_fits_the_page_width_with_nothing_cut(font, rows):
    image = decode(charts.ranking_chart("排名", rows, 85, font=font))
    check_page_image(image)
    assert image.height <= PAGE_PX
    assert len(bar_colours(image)) == len(rows)


def test_more_rows_make_a_taller_chart(font):
    heights = [decode(charts.ranking_chart("排名", STREETS[:n], 85, font=font)).height for n in (1, 4, 8)]
    assert heights == sorted(heights) and len(set(heights)) == 3


def test_a_ranking_needs_rows(font):
    with pytest.raises(ValueError):
        charts.ranking_chart("排名", [], 85, font=font)


# --- the trend ----------------------------------------------------------------------------


def test_a_trend_is_a_png_with_both_lines_and_the_bars(font):
    png = charts.trend_chart("近八期趋势", WEEKS, font=font)
    image = decode(png)
    check_page_image(image)
    assert image.height < WIDTH_PX
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 20)}
    for wanted in (charts.SCORE_LINE, charts.FIX_LINE, charts.PROBLEM_BAR):
        assert ImageColor.getrgb(wanted) in colours, wanted
    assert charts.trend_chart("近八期趋势", WEEKS, font=font) == png


def test_a_trend_draws_the_last_eight_periods(font):
    older = [TrendPoint(f"第{n}期", 80.0, 50, 40.0) for n in (1, 2, 3, 4)]
    assert charts.trend_chart("趋势", older + WEEKS, font=font) == charts.trend_chart("趋势", WEEKS, font=font)
    assert charts.trend_chart("趋势", WEEKS[:-1], font=font) != charts.trend_chart("趋势", WEEKS, font=font)


def test_a_trend_of_one_period_or_of_gaps_only_is_drawn(font):
    for points in ([TrendPoint("第1期", 90.0, 3, 100.0)], [TrendPoint("第1期", None, 0, None)] * 2):
        check_page_image(decode(charts.trend_chart("趋势", points, font=font)))
    with pytest.raises(ValueError):
        charts.trend_chart("趋势", [], font=font)


def test_drawing_leaves_matplotlib_settings_as_they_were(font):
    import matplotlib

    before = dict(matplotlib.rcParams)
    charts.ranking_chart("排名", STREETS, 85, font=font)
    charts.trend_chart("趋势", WEEKS, font=font)
    assert dict(matplotlib.rcParams) == before


# --- fonts --------------------------------------------------------------------------------


def test_a_configured_font_file_that_is_missing_is_said_in_chinese(tmp_path):
    missing = tmp_path / "字体" / "msyh.ttc"
    assert charts.find_font(missing) is None
    problem = charts.font_problem(missing)
    assert problem == f"设置的图表字体文件不存在：{missing}，通报中不含图表；请在设置中改正字体文件"


def test_a_configured_file_that_is_no_font_or_has_no_chinese_is_refused(tmp_path):
    import matplotlib

    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"not a font at all")
    assert charts.find_font(not_a_font) is None
    assert "无法读取" in charts.font_problem(not_a_font) and str(not_a_font) in charts.font_problem(not_a_font)
    assert "不是文件" in charts.font_problem(tmp_path)
    latin = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    assert charts.find_font(latin) is None
    assert charts.font_problem(latin).startswith("设置的图表字体 DejaVu Sans（")
    assert "不含中文字形" in charts.font_problem(latin)


def test_a_configured_chinese_font_file_is_used(chinese_font):
    installed = chinese_font
    chosen = charts.find_font(str(installed.path))
    assert chosen is not None and chosen.path == installed.path
    assert charts.font_problem(installed.path) is None


def test_no_chinese_font_installed_gives_one_message(monkeypatch):
    monkeypatch.setattr(charts, "FONT_CANDIDATES", ("No Such Font 甲", "Nor This One"))
    assert charts.find_font() is None
    assert charts.font_problem() == charts.NO_FONT
    assert charts.NO_FONT.startswith("未找到中文字体")


def test_an_installed_candidate_is_found_by_name(monkeypatch):
    from matplotlib import font_manager

    # DejaVu Sans ships with matplotlib: as the only candidate it is what is found.
    monkeypatch.setattr(charts, "FONT_CANDIDATES", ("No Such Font", "DejaVu Sans"))
    found = charts.find_font()
    assert found is not None and found.family == "DejaVu Sans"
    assert found.path.is_file()
    assert any(Path(e.fname) == found.path for e in font_manager.fontManager.ttflist)


# --- what importing costs -----------------------------------------------------------------

IMPORT_THEN_DRAW = """
import sys
from pathlib import Path

import inspect_cli.charts as charts
point = charts.TrendPoint("第1期", 90.0, 1, None)
print(sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib"))
font = charts.find_font() or charts.FontChoice("DejaVu Sans", Path("DejaVuSans.ttf"))
charts.ranking_chart("排名", [("东城街道", 90.0)], 85, font=font)
print("matplotlib" in sys.modules, "matplotlib.pyplot" in sys.modules)
"""


def test_importing_the_module_does_not_import_matplotlib_and_drawing_never_uses_pyplot():
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", IMPORT_THEN_DRAW],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=True,
    )
    assert result.stdout.splitlines() == ["[]", "True False"], result.stderr

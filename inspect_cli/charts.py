"""Charts for the weekly notice (周通报) as PNG bytes: a ranking and a trend, drawn with matplotlib.

matplotlib is imported inside the functions, so only the commands that draw pay for it (a
second or so). Figures are made with `Figure` and the Agg canvas directly, never pyplot: no
backend is chosen, no GUI toolkit is touched, no figure is kept in a global registry, and
the style is set for the drawing only (`rc_context`). The same input gives the same bytes.

Chinese needs a Chinese font: `find_font` picks the configured file or the first installed
of the usual ones; when there is none, `font_problem` says so in one sentence and the
notice goes without charts.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Sans-serif faces first: charts read better in 黑体 than in 宋体. The names are those the
# fonts give themselves (what matplotlib's font list holds), per system.
FONT_CANDIDATES: tuple[str, ...] = (
    # Linux
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Serif CJK SC",
    # Windows
    "Microsoft YaHei",
    "DengXian",
    "SimHei",
    "SimSun",
    # macOS
    "PingFang SC",
    "Hiragino Sans GB",
    "STHeiti",
    "Heiti SC",
    "Songti SC",
)
NO_FONT = "未找到中文字体（如 Noto Sans CJK、微软雅黑），通报中不含图表；可在设置中指定字体文件"

# An A4 page in Word: 21 cm less the notice's margins leaves 15.6 cm for text.
WIDTH_CM = 15.5
# The tallest chart that still fits on one page between the notice's top and bottom margins.
MAX_HEIGHT_CM = 22.0
DPI = 200
TREND_PERIODS = 8

RED = "#C00000"  # the notice's red (红榜)
BLACK = "#3A3A3A"  # 黑榜
NEUTRAL = "#6F93BF"
TEXT = "#222222"
MUTED = "#666666"
GRID = "#D9D9D9"
SCORE_LINE = "#1F4E79"
FIX_LINE = "#C55A11"
PROBLEM_BAR = "#C8D3DE"

_CM = 1 / 2.54  # inches
_PT = 1 / 72  # inches
_CJK_PROBE = "得分率"


@dataclass(frozen=True)
class FontChoice:
    """A font with Chinese glyphs: the family name charts ask for and the file it comes from."""

    family: str
    path: Path


@dataclass(frozen=True)
class TrendPoint:
    """One period of the trend: its label (第12期, 11月16日–22日) and figures; None leaves a gap."""

    label: str
    score_rate: float | None  # mean 得分率, percent
    problems: int  # 问题数 found in the period
    fix_rate: float | None  # 整改率, percent


# --- fonts ---------------------------------------------------------------------------------


def find_font(configured: str | os.PathLike[str] | None = None) -> FontChoice | None:
    """The font charts use: the configured file, else the first installed candidate.

    None when there is none, or when the configured file cannot be used (it is not replaced
    by another font behind the user's back); `font_problem` then says why, in Chinese.
    Reads matplotlib's font list as it is: the font cache is never rebuilt here.
    """
    return _lookup(configured)[0]


def font_problem(configured: str | os.PathLike[str] | None = None) -> str | None:
    """Why `find_font(configured)` gives None, as one Chinese sentence; None when it gives a font."""
    return _lookup(configured)[1]


def _lookup(configured: str | os.PathLike[str] | None) -> tuple[FontChoice | None, str | None]:
    if configured is not None and os.fspath(configured).strip():
        return _configured_font(Path(os.fspath(configured).strip()).expanduser())
    from matplotlib import font_manager

    installed: dict[str, Any] = {}
    for entry in font_manager.fontManager.ttflist:
        # The file of the regular face, when a family has several (the bold one is found by weight).
        if entry.name not in installed or (entry.weight in (400, "normal") and entry.style == "normal"):
            installed[entry.name] = entry
    for family in FONT_CANDIDATES:
        entry = installed.get(family)
        if entry is not None and os.path.isfile(entry.fname):
            return FontChoice(family, Path(entry.fname)), None
    return None, NO_FONT


def _configured_font(path: Path) -> tuple[FontChoice | None, str | None]:
    after = "，通报中不含图表；请在设置中改正字体文件"
    if not path.exists():
        return None, f"设置的图表字体文件不存在：{path}{after}"
    if not path.is_file():
        return None, f"设置的图表字体不是文件：{path}{after}"
    from matplotlib import font_manager

    real = os.path.realpath(path)
    fonts = font_manager.fontManager
    try:
        # Known to matplotlib by its family name from now on, in this process only.
        if not any(os.path.realpath(e.fname) == real for e in fonts.ttflist):
            fonts.addfont(real)
        faces = [e for e in fonts.ttflist if os.path.realpath(e.fname) == real]
        if not faces:
            return None, f"设置的图表字体文件无法读取：{path}{after}"
        # A collection (.ttc) holds several faces; the Simplified Chinese one if it says so.
        face = next((e for e in faces if e.name.endswith((" SC", " GB"))), faces[0])
        index = getattr(face, "index", 0)  # faces of a collection are read since matplotlib 3.10
        glyphs = font_manager.get_font(font_manager.FontPath(real, index) if index else real)
    except (OSError, RuntimeError, ValueError):
        return None, f"设置的图表字体文件无法读取（不是 TrueType/OpenType 字体）：{path}{after}"
    if any(glyphs.get_char_index(ord(c)) == 0 for c in _CJK_PROBE):
        return None, f"设置的图表字体 {face.name}（{path}）不含中文字形{after}"
    return FontChoice(face.name, path), None


# --- drawing -------------------------------------------------------------------------------


@contextmanager
def _style(font: FontChoice) -> Iterator[None]:
    """matplotlib's settings for one drawing, restored afterwards."""
    import matplotlib

    with matplotlib.rc_context(
        {
            "font.family": [font.family],
            "font.size": 8.5,
            "axes.unicode_minus": False,
            "text.color": TEXT,
            "axes.edgecolor": MUTED,
            "axes.labelcolor": TEXT,
            "xtick.color": MUTED,
            "ytick.color": MUTED,
            "xtick.labelcolor": TEXT,
            "ytick.labelcolor": TEXT,
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
        }
    ):
        yield


def _png(fig: Any) -> bytes:
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    out = io.BytesIO()
    # No "Software" text chunk (it names the matplotlib version): the bytes depend only on the input.
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


class _Measure:
    """Text widths in points, for laying a chart out before drawing it."""

    def __init__(self, font: FontChoice) -> None:
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextToPath

        self._props = FontProperties
        self._family = font.family
        self._engine = TextToPath()

    def width(self, text: str, size: float) -> float:
        """The widest line's width."""
        prop = self._props(family=self._family, size=size)
        return max(
            (self._engine.get_text_width_height_descent(line, prop, ismath=False)[0] for line in text.split("\n")),
            default=0.0,
        )


def _rate_text(rate: float) -> str:
    from inspect_cli.scoring import round_rate

    return f"{round_rate(rate):.1f}"


def _percent(value: float) -> str:
    return f"{value:g}%"


def _wrap(text: str, fits: Callable[[str], bool], most: int = 2) -> str:
    """A label too wide broken onto lines: after a dash or 至 if it has one, else evenly.

    At most `most` lines; the result may still be too wide when that is not enough.
    """
    if fits(text) or most < 2:
        return text
    for mark in ("–", "—", "-", "至", "~", " "):
        at = text.find(mark, 1)
        if 0 < at < len(text) - 1:
            cut = at + 1 if mark != " " else at
            broken = text[:cut].rstrip() + "\n" + text[cut:].lstrip()
            if all(fits(line) for line in broken.split("\n")):
                return broken
    for lines in range(2, most + 1):
        size = math.ceil(len(text) / lines)
        broken = "\n".join(text[i : i + size] for i in range(0, len(text), size))
        if all(fits(line) for line in broken.split("\n")):
            break
    return broken


def ranking_chart(
    title: str,
    rows: Sequence[tuple[str, float]],
    threshold: float | None,
    *,
    font: FontChoice,
    highlight_top: int = 3,
    highlight_bottom: int = 3,
) -> bytes:
    """A horizontal bar chart of 得分率 (percent), best at the top, as PNG bytes.

    `rows` are (name, 得分率) in rank order; equal rates keep that order. The first
    `highlight_top` bars are red (红榜); the last `highlight_bottom` and every one below
    `threshold` are dark (黑榜), as the notice lists them; the threshold is a dashed line.
    """
    if not rows:
        raise ValueError("ranking_chart: no rows")
    order = sorted(range(len(rows)), key=lambda i: -rows[i][1])  # stable: ties keep the rank order
    names = [rows[i][0] for i in order]
    rates = [float(rows[i][1]) for i in order]
    n = len(rows)
    top = set(range(min(highlight_top, n)))
    low = {i for i in range(max(n - highlight_bottom, 0), n)} | {
        i for i, rate in enumerate(rates) if threshold is not None and rate < threshold
    }
    low -= top
    colours = [RED if i in top else BLACK if i in low else NEUTRAL for i in range(n)]

    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    width = WIDTH_CM * _CM
    title_size, value_size, tick_size = 11.5, 7.5, 7.5
    head = 0.14 + 1.45 * title_size * _PT + 0.08 + 0.2 + (0.2 if threshold is not None else 0.06)
    foot = 0.1 + 1.4 * tick_size * _PT + 0.06 + 1.4 * 8.5 * _PT + 0.1
    # Rows are 0.65 cm apart, closer when that would not fit on a page.
    pitch = max(min(0.65 * _CM, (MAX_HEIGHT_CM * _CM - head - foot) / n), 0.11)
    name_size = min(9.0, max(6.0, pitch / _PT * 0.72))
    value_size = min(value_size, name_size)

    with _style(font):
        measure = _Measure(font)
        # Names get at most 42% of the width. A longer one goes on two lines when the page
        # has room for taller rows, else every name is set smaller; only a name longer than
        # that (past some 70 characters) takes more lines and may push the chart off the page.
        budget = 0.42 * width / _PT
        labels = names
        widest = max(measure.width(name, name_size) for name in labels)
        two_lines = 2.5 * name_size * _PT
        if widest > budget and n * max(pitch, two_lines) + head + foot <= MAX_HEIGHT_CM * _CM:
            labels = [_wrap(name, lambda t: measure.width(t, name_size) <= budget) for name in names]
            widest = max(measure.width(name, name_size) for name in labels)
        if widest > budget:
            name_size = max(6.0, name_size * budget / widest)
            value_size = min(value_size, name_size)
            labels = [_wrap(name, lambda t: measure.width(t, name_size) <= budget, most=8) for name in names]
            widest = max(measure.width(name, name_size) for name in labels)
        lines = max(label.count("\n") + 1 for label in labels)
        if lines > 1:
            pitch = max(pitch, (1.25 * lines + 0.3) * name_size * _PT)
        names = labels
        left = 0.12 + (widest + 5) * _PT
        right = 0.1 + (measure.width("100.0", value_size) + 4) * _PT
        plot_height = n * pitch
        height = head + plot_height + foot

        fig = Figure(figsize=(width, height), dpi=DPI)
        ax = fig.add_axes((left / width, foot / height, 1 - (left + right) / width, plot_height / height))
        ax.barh(range(n), rates, height=0.66, color=colours, zorder=2)
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_xlim(0, max(100.0, *rates))
        ax.set_yticks(range(n), names, fontsize=name_size)
        ax.set_xticks(range(0, 101, 20), [str(v) for v in range(0, 101, 20)], fontsize=tick_size)
        ax.tick_params(axis="y", length=0, pad=5)
        ax.tick_params(axis="x", length=2.5, pad=2)
        ax.set_xlabel("得分率（%）", fontsize=8.5, labelpad=3)
        ax.grid(axis="x", color=GRID, linewidth=0.6, zorder=0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.spines["left"].set_linewidth(0.8)
        ax.spines["bottom"].set_linewidth(0.8)
        for y, rate in enumerate(rates):
            ax.annotate(
                _rate_text(rate),
                (rate, y),
                xytext=(2.5, 0),
                textcoords="offset points",
                va="center",
                ha="left",
                fontsize=value_size,
                color=RED if colours[y] == RED else TEXT,
                # Over the 黑榜 line, on white, so the line never runs through a figure.
                bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
                zorder=4,
            )
        if threshold is not None:
            from matplotlib.patheffects import withStroke

            # Edged in white, the line shows on red and dark bars alike.
            ax.axvline(
                threshold,
                color=RED,
                linestyle=(0, (4, 2.5)),
                linewidth=1.0,
                zorder=3,
                path_effects=[withStroke(linewidth=2.4, foreground="white")],
            )
            ha = "right" if threshold > 92 else "left" if threshold < 8 else "center"
            ax.annotate(
                f"黑榜线 {_percent(threshold)}",
                (threshold, 1),
                xycoords=("data", "axes fraction"),
                xytext=(0, 3),
                textcoords="offset points",
                va="bottom",
                ha=ha,
                fontsize=7.5,
                color=RED,
                annotation_clip=False,
            )

        legend = []
        if top:
            legend.append(Patch(color=RED, label=f"红榜（前 {len(top)} 名）"))
        if low:
            rule = f"后 {min(highlight_bottom, n)} 名" if highlight_bottom else ""
            if threshold is not None:
                rule += ("及" if rule else "") + f"低于 {_percent(threshold)}"
            legend.append(Patch(color=BLACK, label=f"黑榜（{rule}）"))
        if len(top) + len(low) < n:
            legend.append(Patch(color=NEUTRAL, label="其他"))
        title_top = 1 - 0.14 / height
        fig.text(0.5, title_top, title, ha="center", va="top", fontsize=title_size, fontweight="bold")
        _legend(
            fig, legend, title_size, height, handlelength=1.2, handleheight=0.8, handletextpad=0.4, columnspacing=1.6
        )
        return _png(fig)


def trend_chart(title: str, periods: Sequence[TrendPoint], *, font: FontChoice) -> bytes:
    """得分率 and 整改率 as lines (left axis, percent) over 问题数 as bars (right axis), as PNG bytes.

    Only the last `TREND_PERIODS` periods are drawn, oldest on the left; a None rate
    leaves a gap in its line.
    """
    points = list(periods)[-TREND_PERIODS:]
    if not points:
        raise ValueError("trend_chart: no periods")
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    n = len(points)
    width = WIDTH_CM * _CM
    title_size, tick_size, label_size, value_size = 11.5, 7.5, 8.5, 7
    with _style(font):
        measure = _Measure(font)
        left = 0.16 + (1.4 * label_size + 3 + measure.width("100", tick_size) + 4) * _PT
        most = max((p.problems for p in points), default=0)
        right = 0.16 + (1.4 * label_size + 3 + measure.width(str(max(most, 10) * 3), tick_size) + 4) * _PT
        slot = (width - left - right) / n / _PT * 0.92
        labels = [_wrap(p.label, lambda t: measure.width(t, tick_size) <= slot) for p in points]
        label_lines = max(label.count("\n") + 1 for label in labels)
        plot_height = 5.6 * _CM
        head = 0.14 + 1.45 * title_size * _PT + 0.08 + 0.22 + 0.08
        foot = 0.1 + label_lines * 1.3 * tick_size * _PT + 0.08
        height = head + plot_height + foot

        fig = Figure(figsize=(width, height), dpi=DPI)
        rect = (left / width, foot / height, 1 - (left + right) / width, plot_height / height)
        bars = fig.add_axes(rect)
        ax = bars.twinx()  # the percent lines in front of the bars
        xs = list(range(n))
        counts = [p.problems for p in points]
        bars.bar(xs, counts, width=0.5, color=PROBLEM_BAR, zorder=1)
        # Bars fill the lower part of the plot, lines the upper: their labels do not meet.
        bars.set_ylim(0, max(most, 1) * 2.6)
        bars.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        bars.yaxis.tick_right()
        bars.yaxis.set_label_position("right")
        bars.set_ylabel("问题数（个）", fontsize=label_size, labelpad=4)
        ax.yaxis.tick_left()
        ax.yaxis.set_label_position("left")
        ax.set_ylabel("得分率、整改率（%）", fontsize=label_size, labelpad=4)
        for x, count in zip(xs, counts, strict=True):
            # Inside the top of the bar: above it is where the 整改率 line runs.
            inside = count >= most * 0.12
            bars.annotate(
                str(count),
                (x, count),
                xytext=(0, -2 if inside else 2),
                textcoords="offset points",
                ha="center",
                va="top" if inside else "bottom",
                fontsize=value_size,
                color=TEXT,
            )

        score = [math.nan if p.score_rate is None else p.score_rate for p in points]
        fix = [math.nan if p.fix_rate is None else p.fix_rate for p in points]
        ax.plot(xs, score, color=SCORE_LINE, linewidth=1.6, marker="o", markersize=4, zorder=3)
        ax.plot(xs, fix, color=FIX_LINE, linewidth=1.4, linestyle=(0, (4, 2)), marker="s", markersize=3.6, zorder=3)
        for x, (rate, fixed) in enumerate(zip(score, fix, strict=True)):
            # The higher point's label goes above it, the lower one's below: near values stay apart.
            score_above = math.isnan(fixed) or rate >= fixed
            for value, colour, above in ((rate, SCORE_LINE, score_above), (fixed, FIX_LINE, not score_above)):
                if math.isnan(value):
                    continue
                ax.annotate(
                    _rate_text(value),
                    (x, value),
                    xytext=(0, 4 if above else -4),
                    textcoords="offset points",
                    ha="center",
                    va="bottom" if above else "top",
                    fontsize=value_size,
                    color=colour,
                )
        ax.set_ylim(0, 105)
        ax.set_yticks(range(0, 101, 20), [str(v) for v in range(0, 101, 20)], fontsize=tick_size)
        bars.tick_params(axis="y", labelsize=tick_size, length=2.5, pad=2)
        ax.tick_params(axis="y", length=2.5, pad=2)
        bars.set_xlim(-0.6, n - 0.4)
        bars.set_xticks(xs, labels, fontsize=tick_size)
        bars.tick_params(axis="x", length=0, pad=4)
        # The grid follows the percent ticks but is drawn behind the bars.
        for v in range(20, 101, 20):
            bars.axhline(v / 105 * bars.get_ylim()[1], color=GRID, linewidth=0.6, zorder=0)
        for axes in (ax, bars):
            axes.spines["top"].set_visible(False)
            for side in ("left", "right", "bottom"):
                axes.spines[side].set_linewidth(0.8)

        fig.text(0.5, 1 - 0.14 / height, title, ha="center", va="top", fontsize=title_size, fontweight="bold")
        handles = [
            Line2D([], [], color=SCORE_LINE, linewidth=1.6, marker="o", markersize=4, label="得分率"),
            Line2D(
                [], [], color=FIX_LINE, linewidth=1.4, linestyle=(0, (4, 2)), marker="s", markersize=3.6, label="整改率"
            ),
            Patch(color=PROBLEM_BAR, label="问题数"),
        ]
        _legend(fig, handles, title_size, height, handlelength=2.2, handletextpad=0.5, columnspacing=1.8)
        return _png(fig)


def _legend(fig: Any, handles: list[Any], title_size: float, height: float, **spacing: float) -> None:
    """The legend in one row under the title (`height` is the figure's, in inches)."""
    fig.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 1 - (0.14 + 1.45 * title_size * _PT + 0.08) / height),
        ncol=len(handles),
        frameon=False,
        fontsize=8,
        borderpad=0,
        borderaxespad=0,
        **spacing,
    )

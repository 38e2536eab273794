"""`inspect-cli config …`: the settings file."""

from __future__ import annotations

import shutil

import typer

from inspect_cli.cli.context import state
from inspect_cli.cli.render import out, say, table
from inspect_cli.config import DEFAULT_CONFIG

app = typer.Typer(help="设置：查看、生成设置文件。", no_args_is_help=True)


@app.command()
def show() -> None:
    """显示设置文件位置和生效的设置。例：inspect-cli config show"""
    settings = state.settings()
    where = state.config_path
    office = state.office_dir / "settings.yaml"
    if office.exists():
        say(f"创城办下发的设置：{office}（本机设置文件中的项优先）")
    fallback = "创城办下发的设置" if office.exists() else "默认值"
    say(
        f"设置文件：{where}"
        + ("" if where.exists() else f"（不存在，使用{fallback}；可用 inspect-cli config init 生成）")
    )
    rectification, office_settings = settings.rectification, settings.office
    rows = [
        ["rectification.repeat_window_days", rectification.repeat_window_days, "销号后多少天内再次发现算“反复出现”"],
        [
            "rectification.default_deadline_days",
            rectification.default_deadline_days,
            "未设时限的检查项的整改时限（工作日）",
        ],
        ["office.name", office_settings.name, "发文单位"],
        ["office.return_to", office_settings.return_to, "整改通知单的回执方式"],
        ["notice.title", settings.notice.title, "周通报标题"],
        ["notice.black_threshold", settings.notice.black_threshold, "平均得分率低于此值列入黑榜"],
        ["notice.requirements", settings.notice.requirements, "五、下步要求（每行一段）"],
        ["notice.signature", settings.notice.signature or f"（{office_settings.name}）", "落款"],
        [
            "notice.number_prefix",
            settings.notice.number_prefix or "（不印文号）",
            "文号前缀，如 示范市创城办〔2026〕12号",
        ],
        ["notice.copy_to", settings.notice.copy_to or "（不印抄送）", "版记中的抄送单位"],
        ["notice.printed_by", settings.notice.printed_by or f"（{office_settings.name}）", "版记中的印发机关"],
        ["notice.chart_font", settings.notice.chart_font or "（自动查找）", "图表所用中文字体文件"],
    ]
    out.print(table(["设置项", "值", "说明"], rows))


@app.command()
def init() -> None:
    """在设置文件位置写入带说明的默认设置（已存在则不覆盖）。例：inspect-cli config init"""
    where = state.config_path
    if where.exists():
        say(f"设置文件已存在，未覆盖：{where}")
        return
    where.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEFAULT_CONFIG, where)
    say(f"已生成设置文件：{where}")

"""`inspect-cli demo`: build the sample city."""

from __future__ import annotations

import typer

from inspect_cli import paths
from inspect_cli.cli.context import state
from inspect_cli.cli.render import out, say, table
from inspect_cli.dates import today
from inspect_cli.demo import build_sample_city, write_demo_rules
from inspect_cli.queries import GroupBy, count_problems, ranking
from inspect_cli.scoring import format_rate


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo() -> None:
    """在空数据库中建立示例城市（84 个点位、一个月的检查和双随机计划、考核规则）并显示本周街道排名。例：inspect-cli --db demo.sqlite demo"""
    store = state.store()
    report = build_sample_city(store, state.checklists(), today(), state.media_dir)
    rules = write_demo_rules(state.media_dir.parent)
    # The problems as `issue list --all` counts them (one found again is one), to the day.
    problems, _ = count_problems(store)
    last = min(report.weeks[-1][1], today())
    say(f"示例城市已建立：{paths.db_label(state.db_path)}")
    say(
        f"点位 {report.sites} 个，检查 {report.inspections} 次（{report.weeks[0][0]} 至 {last}），发现问题 {problems} 个"
    )
    say(f"双随机检查计划：{'、'.join(report.plans)}；下周的任务单：")
    say(f"  inspect-cli plan show --week {report.plans[-1]}")
    say(f"考核规则（示例）：{rules}，用法：")
    say(f"  inspect-cli assess --rules {rules}")
    start, end = report.weeks[-1]
    rows = ranking(store, GroupBy.street, start, end)
    out.print(
        table(
            ["排名", "街道", "检查次数", "平均得分率", "不合格", "严重不合格"],
            [[r.rank, r.name, r.inspections, format_rate(r.mean_rate), r.failed, r.severe] for r in rows],
            title=f"本周街道排名（{start} 至 {end}）",
        )
    )

"""双随机 inspection plans: which 点位 each inspector pair visits in a week, drawn at random.

A draw is a pure function of its inputs (`draw`): the candidates of each 点位类型 with their
weights, the inspectors, who avoids which 街道 (回避), last week's pairs and the seed. The
inputs are taken from the database once (`candidates`) and stored with the plan, so anyone
can draw it again and compare (`verify`): same inputs and seed, same plan.

- 点位 are drawn per type without replacement, each with weight
  1 + recent·(days since its last inspection, up to 60, ÷ 60; never inspected: 1)
    + score·(points short of 100% at its last inspection, up to 30, ÷ 30)
    + open·(its problems still 待整改, up to 5, ÷ 5),
  one at a time (chance: weight ÷ the weight of those left; only sums and products, so the
  same on any machine). With `cover_all`, only the 点位 visited the fewest weeks this year
  are drawn until each has had its turn.
- Pairs: the inspectors shuffled and taken two by two (an odd one out joins the last pair),
  the shuffle chosen to leave no drawn 街道 without a pair free of 回避 for it, and then to
  repeat as few of last week's partners as it can.
- 点位 go to pairs 街道 by 街道 (a pair keeps to few 街道), never to a pair with somebody
  who avoids that 街道, and no pair gets more than its share.

Whether a planned visit was made is not stored: it is the inspections of that 点位 in that
week (`status`), so an inspection made on a laptop that never saw the plan counts too.
"""

from __future__ import annotations

import itertools
import math
import random
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from inspect_cli.dates import TZ, month_day, parse_week, today
from inspect_cli.errors import InputError, NotFoundError, StateError
from inspect_cli.scoring import round_rate
from inspect_cli.text import clean, clean_name, for_terminal

if TYPE_CHECKING:
    from inspect_cli.store import Store

RECENT_DAYS = 60  # days without an inspection that make a 点位 as due as it gets
SCORE_GAP = 30.0  # points short of 100% that make a 点位 as weak as it gets
OPEN_CAP = 5  # problems still 待整改 that make a 点位 as troubled as it gets
PAIR_SHUFFLES = 50  # shuffles tried to avoid last week's pairs
EXHAUSTIVE_UP_TO = 8  # people whose every order is tried when no shuffle serves each 街道 (8! = 40,320)


@dataclass(frozen=True)
class Weights:
    """How much each reason adds to a 点位's chance (0 leaves it out; all 0: every 点位 alike)."""

    recent: float = 2.0
    score: float = 2.0
    open: float = 1.0

    @classmethod
    def parse(cls, texts: list[str]) -> Weights:
        """`recent=2` `score=1,open=0` …, over the defaults."""
        names = {"recent": "recent", "score": "score", "open": "open", "未检查": "recent", "得分": "score",
                 "问题": "open"}  # fmt: skip
        values = asdict(cls())
        for text in texts:
            for part in filter(None, (p.strip() for p in text.replace("，", ",").split(","))):
                name, sep, number = part.partition("=")
                key = names.get(name.strip())
                if not sep or key is None:
                    raise InputError(f"权重写法不正确：'{part}'，应为 recent=2、score=2 或 open=1")
                try:
                    value = float(number)
                except ValueError:
                    raise InputError(f"权重 {name.strip()} 应为数字：'{number.strip()}'") from None
                if not 0 <= value <= 100 or math.isnan(value):
                    raise InputError(f"权重 {name.strip()} 应在 0 到 100 之间：{number.strip()}")
                values[key] = value
        return cls(**values)


@dataclass(frozen=True)
class Candidate:
    """A 点位 as a draw sees it."""

    code: str
    street: str
    weight: float
    visits: int  # weeks of this year it was inspected or planned, before the week drawn


@dataclass(frozen=True)
class DrawInputs:
    week: str
    seed: str
    per_type: int
    inspectors: list[str]
    avoid: dict[str, list[str]]  # inspector → 街道 they do not inspect
    weights: Weights
    cover_all: bool
    previous_pairs: list[list[str]]
    candidates: dict[str, list[Candidate]]  # 点位类型 → its 点位, by code

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["candidates"] = {
            t: [[c.code, c.street, c.weight, c.visits] for c in cs] for t, cs in self.candidates.items()
        }
        return data

    @classmethod
    def from_json(cls, data: Any) -> DrawInputs:
        """Inputs as stored (or as a bundle brings them): every field of the type it must have,
        else ValueError."""

        def need(ok: bool) -> None:
            if not ok:
                raise ValueError("draw inputs")

        def texts(value: Any) -> list[str]:
            need(isinstance(value, list) and all(isinstance(v, str) for v in value))
            return list(value)

        def number(value: Any) -> float:
            need(isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value))
            return float(value)

        need(isinstance(data, dict))
        weights, avoid, candidates = data.get("weights"), data.get("avoid"), data.get("candidates")
        need(isinstance(weights, dict) and set(weights) == {"recent", "score", "open"})
        need(isinstance(avoid, dict) and isinstance(candidates, dict) and isinstance(data.get("previous_pairs"), list))
        need(isinstance(data.get("per_type"), int) and not isinstance(data["per_type"], bool))
        need(isinstance(data.get("cover_all"), bool))
        need(isinstance(data.get("week"), str) and isinstance(data.get("seed"), str))
        found: dict[str, list[Candidate]] = {}
        for site_type, rows in candidates.items():
            need(isinstance(rows, list))
            found[site_type] = []
            for row in rows:
                need(isinstance(row, list) and len(row) == 4 and isinstance(row[0], str) and isinstance(row[1], str))
                need(isinstance(row[3], int) and not isinstance(row[3], bool) and number(row[2]) > 0)
                found[site_type].append(Candidate(row[0], row[1], float(row[2]), row[3]))
        return cls(
            week=data["week"],
            seed=data["seed"],
            per_type=data["per_type"],
            inspectors=texts(data.get("inspectors")),
            avoid={name: texts(streets) for name, streets in avoid.items()},
            weights=Weights(**{k: number(v) for k, v in weights.items()}),
            cover_all=data["cover_all"],
            previous_pairs=[texts(p) for p in data["previous_pairs"]],
            candidates=found,
        )


@dataclass(frozen=True)
class Drawn:
    pairs: list[list[str]]
    visits: list[tuple[str, int]]  # (点位编码, pair number from 1), in draw order


def draw(inputs: DrawInputs) -> Drawn:
    """The plan these inputs give: the same inputs, the same plan, on any machine."""
    if len(inputs.inspectors) < 2:
        raise InputError("至少需要 2 名检查人（两人一组）")
    chosen: list[Candidate] = []
    for site_type in sorted(inputs.candidates):
        rng = random.Random(f"{inputs.seed}|{inputs.week}|{site_type}")
        chosen += _sample(rng, inputs.candidates[site_type], inputs.per_type, inputs.cover_all)
    pairs = _pairs(inputs, {c.street for c in chosen})
    return Drawn(pairs, _assign(chosen, pairs, inputs.avoid))


def _sample(rng: random.Random, candidates: list[Candidate], count: int, cover_all: bool) -> list[Candidate]:
    """`count` of the candidates, one at a time, each with chance weight ÷ the weight of those left.

    Only correctly rounded sums (`math.fsum`, then one addition at a time in code order) and
    one product of the stored weights: the same on every machine and Python version, so the
    same seed draws the same 点位 everywhere.
    With `cover_all`, the fewest-visited are drawn from first, a level only when the one
    below is used up.
    """
    ordered = sorted(candidates, key=lambda c: c.code)
    levels = [[c for c in ordered if c.visits == v] for v in sorted({c.visits for c in ordered})]
    chosen: list[Candidate] = []
    for level in levels if cover_all else [ordered]:
        left = list(level)
        while left and len(chosen) < count:
            point = rng.random() * math.fsum(c.weight for c in left)  # correctly rounded: any machine, any Python
            reached, index = 0.0, len(left) - 1  # the last, should rounding leave `point` past the sum
            for i, candidate in enumerate(left):
                reached += candidate.weight
                if point < reached:
                    index = i
                    break
            chosen.append(left.pop(index))
    return chosen


def _pairs(inputs: DrawInputs, streets: set[str]) -> list[list[str]]:
    """The shuffle that leaves no drawn 街道 without a pair free to go there (回避) and, of
    those, repeats the fewest of last week's partners: the first such of `PAIR_SHUFFLES`
    random ones; when they all strand a 街道, the best of every order (for a few people)."""
    rng = random.Random(f"{inputs.seed}|{inputs.week}|pairs")
    together_before = {frozenset((a, b)) for pair in inputs.previous_pairs for a in pair for b in pair if a != b}

    def teams(names: Sequence[str]) -> list[list[str]]:
        pairs = [list(names[i : i + 2]) for i in range(0, len(names) - len(names) % 2, 2)]
        if len(names) % 2:
            pairs[-1].append(names[-1])
        return pairs

    def score(pairs: list[list[str]]) -> tuple[int, int]:
        avoided = [{s for name in pair for s in inputs.avoid.get(name, [])} for pair in pairs]
        stranded = sum(1 for street in streets if all(street in a for a in avoided))
        # Two people who went out together last week and would again.
        repeats = sum(
            1 for p in pairs for i, a in enumerate(p) for b in p[i + 1 :] if frozenset((a, b)) in together_before
        )
        return stranded, repeats

    best: tuple[tuple[int, int], list[list[str]]] | None = None
    for _ in range(PAIR_SHUFFLES):
        names = list(inputs.inspectors)
        rng.shuffle(names)
        pairs = teams(names)
        scored = score(pairs)
        if best is None or scored < best[0]:
            best = (scored, pairs)
        if scored == (0, 0):
            break
    assert best is not None
    if best[0][0] and len(inputs.inspectors) <= EXHAUSTIVE_UP_TO:
        for names in itertools.permutations(inputs.inspectors):
            pairs = teams(names)
            scored = score(pairs)
            if scored < best[0]:
                best = (scored, pairs)
    elif best[0][0]:
        # Too many people for every order: swap two people of different pairs while that
        # strands fewer 街道 (or as many, repeating fewer partners), the first such swap each time.
        improved = True
        while improved and best[0][0]:
            improved = False
            flat = [(p, i) for p, pair in enumerate(best[1]) for i in range(len(pair))]
            for (p, i), (q, j) in itertools.combinations(flat, 2):
                if p == q:
                    continue
                pairs = [list(pair) for pair in best[1]]
                pairs[p][i], pairs[q][j] = pairs[q][j], pairs[p][i]
                scored = score(pairs)
                if scored < best[0]:
                    best, improved = (scored, pairs), True
                    break
    return best[1]


def _assign(chosen: list[Candidate], pairs: list[list[str]], avoid: dict[str, list[str]]) -> list[tuple[str, int]]:
    """Each drawn 点位 to a pair with nobody who avoids its 街道, no pair over its share when
    any such split exists, a pair kept to few 街道.

    街道 by 街道, those fewest pairs may go to first (then the larger); within one, a pair
    already there, then the least loaded. When every pair that may go is full, a chain of
    moves makes room (an augmenting path: each moved 点位 to another pair that may take it),
    so a split within the shares is found whenever there is one.
    """
    share = math.ceil(len(chosen) / len(pairs)) if chosen else 0
    avoided = [{s for name in pair for s in avoid.get(name, [])} for pair in pairs]

    def allowed(street: str) -> list[int]:
        return [i for i in range(len(pairs)) if street not in avoided[i]]

    by_street: dict[str, list[Candidate]] = {}
    for candidate in chosen:
        by_street.setdefault(candidate.street, []).append(candidate)
    order = sorted(by_street, key=lambda s: (len(allowed(s)), -len(by_street[s]), s))
    held: list[list[Candidate]] = [[] for _ in pairs]
    for street in order:
        may = allowed(street)
        for candidate in by_street[street]:
            if not may:
                raise InputError(
                    f"点位 {candidate.code}（{street or '未填街道'}）无组可派：找不到全组都不回避该街道的分组；"
                    "请调整检查人或 --avoid"
                )
            room = [i for i in may if len(held[i]) < share]
            if not room and _make_room(may, held, share, allowed):
                room = [i for i in may if len(held[i]) < share]
            # A pair already in this 街道 first, then the least loaded, then the first.
            index = min(room or may, key=lambda i: (all(c.street != street for c in held[i]), len(held[i]), i))
            held[index].append(candidate)
    pair_of = {c.code: i + 1 for i, pair in enumerate(held) for c in pair}
    return [(c.code, pair_of[c.code]) for c in chosen]


def _make_room(may: list[int], held: list[list[Candidate]], share: int, allowed: Callable[[str], list[int]]) -> bool:
    """Move 点位 along a chain of pairs so that one of `may` has room; whether it could."""
    came_from: dict[int, tuple[int, int] | None] = dict.fromkeys(may)
    queue = list(may)
    while queue:
        pair = queue.pop(0)
        for index, candidate in enumerate(held[pair]):
            for other in allowed(candidate.street):
                if other in came_from:
                    continue
                came_from[other] = (pair, index)
                if len(held[other]) < share:
                    # Walk back: each 点位 on the chain moves one pair along it.
                    target = other
                    while (step := came_from[target]) is not None:
                        source, position = step
                        held[target].append(held[source].pop(position))
                        target = source
                    return True
                queue.append(other)
    return False


# --- the database's side ------------------------------------------------------------------


def candidates(
    store: Store, week_start: date, weights: Weights, types: list[str] | None
) -> tuple[dict[str, list[Candidate]], dict[str, str], set[str]]:
    """Each chosen type's 点位 with their weights; why each weighs what it does (by code); and
    the register's 街道."""
    rows = store.plan_candidates(week_start, today())
    known = sorted({r["site_type"] for r in rows})
    if not rows:
        raise StateError("点位台账为空：请先用 inspect-cli site import 导入点位")
    wanted = known
    if types:
        unknown = [t for t in types if t not in known]
        if unknown:
            raise NotFoundError(f"点位台账中没有点位类型：{'、'.join(unknown)}（现有：{'、'.join(known)}）")
        wanted = sorted(set(types))
    out: dict[str, list[Candidate]] = {t: [] for t in wanted}
    reasons: dict[str, str] = {}
    for row in rows:
        if row["site_type"] not in out:
            continue
        weight, reason = _weight(row, week_start, weights)
        out[row["site_type"]].append(Candidate(row["code"], row["street"], weight, row["visits"]))
        reasons[row["code"]] = reason
    return out, reasons, {r["street"] for r in rows if r["street"]}


def _weight(row: dict[str, Any], week_start: date, weights: Weights) -> tuple[float, str]:
    parts = []
    if row["last_date"] is None:
        recent = 1.0
        parts.append("此前未检查过")
    else:
        days = (week_start - date.fromisoformat(row["last_date"])).days
        recent = min(days, RECENT_DAYS) / RECENT_DAYS
        parts.append(f"距上次检查 {days} 天")
    low = 0.0
    if row["last_rate"] is not None:
        low = min(max(100.0 - row["last_rate"], 0.0), SCORE_GAP) / SCORE_GAP
        parts.append(f"上次得分率 {row['last_rate']:.1f}%")
    if row["open"]:
        parts.append(f"待整改问题 {row['open']} 个")
    troubled = min(row["open"], OPEN_CAP) / OPEN_CAP
    weight = round(1.0 + weights.recent * recent + weights.score * low + weights.open * troubled, 4)
    return weight, "；".join(parts)


@dataclass
class PlanVisit:
    seq: int
    pair: int
    code: str
    name: str
    site_type: str
    street: str
    community: str
    address: str
    weight: float
    reason: str
    # Filled by `status`:
    state: str = ""
    inspection_no: str | None = None
    inspected_on: str | None = None
    by_other_pair: bool = False


@dataclass
class Plan:
    id: str
    week: str
    date_from: date
    date_to: date
    seed: str
    pairs: list[list[str]]
    drawn_at: str
    replaced_at: str | None
    inputs: DrawInputs
    visits: list[PlanVisit] = field(default_factory=list)
    in_force: bool = True  # the week's latest draw not replaced
    replaced: Plan | None = None  # the draw this one replaced (plan draw --force)

    @property
    def title(self) -> str:
        year, number = self.week.split("-W")
        return f"{year}年第{int(number)}周（{month_day(self.date_from)}—{month_day(self.date_to)}）"

    def pair_names(self, pair: int) -> str:
        return "、".join(self.pairs[pair - 1])


def normalise_week(text: str) -> tuple[str, date, date]:
    monday, sunday = parse_week(text)
    year, number, _ = monday.isocalendar()
    return f"{year}-W{number:02d}", monday, sunday


def parse_inspectors(texts: list[str]) -> list[str]:
    names: list[str] = []
    for text in texts:
        for part in text.replace("，", ",").replace("、", ",").split(","):
            name = clean_name(part, "检查人姓名")
            if name is None:
                continue
            if name in names:
                raise InputError(f"检查人重复：{name}")
            names.append(name)
    return names


def parse_avoid(texts: list[str], inspectors: list[str]) -> dict[str, list[str]]:
    """`张三=东城街道` or `张三=东城街道,西城街道`: who does not inspect which 街道."""
    avoid: dict[str, list[str]] = {}
    for text in texts:
        before, sep, streets = text.partition("=")
        name = clean_name(before, "回避的检查人")
        named = [clean_name(part, "回避的街道") for part in streets.replace("，", ",").split(",")]
        if not sep or not name or "=" in streets or not any(named):
            raise InputError(f"回避写法不正确：'{for_terminal(text)[:60]}'，应为 姓名=街道（多个街道用逗号分隔）")
        if name not in inspectors:
            raise InputError(f"回避中的 {name} 不在检查人名单中（{'、'.join(inspectors)}）")
        for street in named:
            if street and street not in avoid.setdefault(name, []):
                avoid[name].append(street)
    return {k: sorted(v) for k, v in sorted(avoid.items())}


def _check_streets(avoid: dict[str, list[str]], streets: set[str]) -> None:
    """Every 街道 avoided is one of the register's: a typo would quietly avoid nothing."""
    import difflib

    for name, named in avoid.items():
        for street in named:
            if street not in streets:
                close = difflib.get_close_matches(street, sorted(streets), n=1, cutoff=0.4)
                hint = f"，是不是 {close[0]}？" if close else f"（现有：{'、'.join(sorted(streets))}）"
                raise InputError(f"回避中 {name} 的街道 {street} 不在点位台账中{hint}")


def make_plan(
    store: Store,
    week: str,
    per_type: int,
    inspectors: list[str],
    *,
    seed: str | None = None,
    avoid: dict[str, list[str]] | None = None,
    weights: Weights | None = None,
    types: list[str] | None = None,
    cover_all: bool = False,
    force: bool = False,
) -> Plan:
    """Draw the week's plan from the database as it is and store it (re-drawing needs `force`)."""
    name, monday, sunday = normalise_week(week)
    if not 1 <= per_type <= 1000:
        raise InputError(f"--per-type 应在 1 到 1000 之间：{per_type}")
    if store.device().office_id is not None:
        raise StateError("本机是外业电脑（已导入创城办的下发包）：检查计划由创城办抽取，随下发包发到各台电脑")
    # As every name is stored: NFC, no controls, so the same seed typed anywhere is the same text.
    chosen_seed = clean(seed, "随机种子", limit=64, multiline=False) or f"{secrets.randbelow(10**8):08d}"
    weights = weights or Weights()
    found, reasons, streets = candidates(store, monday, weights, types)
    _check_streets(avoid or {}, streets)
    previous = store.plan_in_force(_previous_week(monday))
    inputs = DrawInputs(
        week=name, seed=chosen_seed, per_type=per_type, inspectors=inspectors, avoid=avoid or {}, weights=weights,
        cover_all=cover_all, previous_pairs=previous["pairs"] if previous else [], candidates=found,
    )  # fmt: skip
    drawn = draw(inputs)
    ids = store.site_ids(code for code, _ in drawn.visits)
    weight_of = {c.code: c.weight for cs in found.values() for c in cs}
    record = {
        "id": str(uuid.uuid4()), "week": name, "date_from": monday.isoformat(), "date_to": sunday.isoformat(),
        "seed": chosen_seed, "inputs": inputs.to_json(), "pairs": drawn.pairs, "drawn_at": _drawn_at(),
        "drawn_by": store.device().id, "replaced_at": None,
    }  # fmt: skip
    visits = [
        {"seq": seq, "site_id": ids[code], "pair": pair, "weight": weight_of[code], "reason": reasons[code]}
        for seq, (code, pair) in enumerate(drawn.visits, start=1)
    ]
    earlier = store.save_plan(record, visits, force)
    plan = load_plan(store, name)
    if earlier is not None:
        plan.replaced = _plan(store, earlier)
    return plan


def _drawn_at() -> str:
    """Now, to the microsecond: draws of a week order by it, and a re-draw may come within the second."""
    from datetime import datetime

    return datetime.now(TZ).isoformat(timespec="microseconds")


def _previous_week(monday: date) -> str:
    from datetime import timedelta

    year, number, _ = (monday - timedelta(days=7)).isocalendar()
    return f"{year}-W{number:02d}"


def this_week() -> str:
    year, number, _ = today().isocalendar()
    return f"{year}-W{number:02d}"


def load_plan(store: Store, week: str | None = None) -> Plan:
    """The plan in force for a week (this week by default)."""
    name, _, _ = normalise_week(week or this_week())
    record = store.plan_in_force(name)
    if record is None:
        raise NotFoundError(f"{name} 还没有检查计划：请用 inspect-cli plan draw --week {name} 抽取")
    return _plan(store, record)


def history(store: Store, week: str) -> list[Plan]:
    name, _, _ = normalise_week(week)
    plans = [_plan(store, r) for r in store.plan_history(name)]
    if not plans:
        raise NotFoundError(f"{name} 还没有检查计划：请用 inspect-cli plan draw --week {name} 抽取")
    return plans


def _plan(store: Store, record: dict[str, Any]) -> Plan:
    plan = Plan(
        id=record["id"], week=record["week"], date_from=date.fromisoformat(record["date_from"]),
        date_to=date.fromisoformat(record["date_to"]), seed=record["seed"], pairs=record["pairs"],
        drawn_at=record["drawn_at"], replaced_at=record["replaced_at"], inputs=DrawInputs.from_json(record["inputs"]),
        in_force=record.get("in_force", record["replaced_at"] is None),
    )  # fmt: skip
    plan.visits = [
        PlanVisit(
            seq=v["seq"],
            pair=v["pair"],
            code=v["code"],
            name=v["name"],
            site_type=v["site_type"],
            street=v["street"] or "",
            community=v["community"] or "",
            address=v["address"] or "",
            weight=v["weight"],
            reason=v["reason"],
        )  # fmt: skip
        for v in store.plan_visits(plan.id)
    ]
    plan.visits.sort(key=lambda v: (v.pair, v.street, v.site_type, v.code))
    return plan


def only_pair_of(plan: Plan, inspector: str) -> int:
    """The pair this inspector is in."""
    for number, pair in enumerate(plan.pairs, start=1):
        if inspector in pair:
            return number
    raise NotFoundError(f"{inspector} 不在 {plan.week} 的检查组中（{'；'.join('、'.join(p) for p in plan.pairs)}）")


@dataclass(frozen=True)
class Verified:
    plan: Plan
    differences: list[str]


def verify(store: Store, week: str) -> Verified:
    """Draw the plan in force again from its stored inputs and seed; what differs, if anything."""
    plan = load_plan(store, week)
    again = draw(plan.inputs)
    differences: list[str] = []
    if again.pairs != plan.pairs:
        differences.append(f"检查组不同：重抽为 {'；'.join('、'.join(p) for p in again.pairs)}")
    stored = sorted((v.code, v.pair) for v in plan.visits)
    redrawn = sorted(again.visits)
    if stored != redrawn:
        missing = sorted(set(redrawn) - set(stored))
        extra = sorted(set(stored) - set(redrawn))
        if missing:
            differences.append("重抽有而计划没有：" + "、".join(f"{c}（第{p}组）" for c, p in missing[:10]))
        if extra:
            differences.append("计划有而重抽没有：" + "、".join(f"{c}（第{p}组）" for c, p in extra[:10]))
    return Verified(plan, differences)


# --- progress and coverage ---------------------------------------------------------------

DONE, STARTED, PENDING, MISSED = "已完成", "进行中", "未检查", "漏检"


@dataclass
class PairStatus:
    pair: int
    inspectors: str
    planned: int = 0
    done: int = 0
    started: int = 0
    pending: int = 0
    missed: int = 0

    @property
    def rate(self) -> float | None:
        return round_rate(100.0 * self.done / self.planned) if self.planned else None


@dataclass
class PlanStatus:
    plan: Plan
    pairs: list[PairStatus]
    unplanned: list[dict[str, Any]]  # inspections in the week of 点位 the plan does not name
    as_of: date


def status(store: Store, week: str | None = None, day: date | None = None) -> PlanStatus:
    """Each planned visit as made (已完成), begun (进行中), not yet (未检查) or missed (漏检, the week over)."""
    plan = load_plan(store, week)
    as_of = day or today()
    made: dict[str, list[dict[str, Any]]] = {}
    for inspection in store.inspections_between(plan.date_from, plan.date_to):
        made.setdefault(inspection["code"], []).append(inspection)
    pairs = [PairStatus(n, plan.pair_names(n)) for n in range(1, len(plan.pairs) + 1)]
    planned = set()
    for visit in plan.visits:
        planned.add(visit.code)
        found = made.get(visit.code, [])
        finished = [i for i in found if i["status"] == "finished"]
        chosen = (finished or found or [None])[0]
        row = pairs[visit.pair - 1]
        row.planned += 1
        if chosen is None:
            visit.state = PENDING if as_of <= plan.date_to else MISSED
        else:
            visit.state = DONE if chosen["status"] == "finished" else STARTED
            visit.inspection_no, visit.inspected_on = chosen["no"], chosen["date"]
            members = set(plan.pairs[visit.pair - 1])
            visit.by_other_pair = bool(chosen["inspectors"]) and not members & set(chosen["inspectors"])
        counter = {DONE: "done", STARTED: "started", PENDING: "pending", MISSED: "missed"}[visit.state]
        setattr(row, counter, getattr(row, counter) + 1)
    unplanned = [i for code, found in sorted(made.items()) if code not in planned for i in found]
    return PlanStatus(plan, pairs, unplanned, as_of)


@dataclass(frozen=True)
class CoverageRow:
    site_type: str
    sites: int
    by_visits: dict[int, int]  # visits (3 = 3 or more) → 点位

    @property
    def covered(self) -> int:
        return self.sites - self.by_visits.get(0, 0)

    @property
    def rate(self) -> float | None:
        return round_rate(100.0 * self.covered / self.sites) if self.sites else None


COVERAGE_TOP = 3  # "3 次及以上"


def coverage(store: Store, year: int) -> list[CoverageRow]:
    """Per 点位类型: how many 点位 were inspected 0, 1, 2, 3+ times this year (finished inspections)."""
    if not 2000 <= year <= 2100:
        raise InputError(f"年份不正确：{year}")
    counts: dict[str, Counter[int]] = {}
    for site_type, _code, visits in store.visits_in_year(year):
        counts.setdefault(site_type, Counter())[min(visits, COVERAGE_TOP)] += 1
    return [
        CoverageRow(t, sum(c.values()), {n: c.get(n, 0) for n in range(COVERAGE_TOP + 1)})
        for t, c in sorted(counts.items())
    ]


def plan_data(plan: Plan) -> dict[str, Any]:
    """A plan as JSON: its inputs (what a re-draw needs) and its visits."""
    return {
        "id": plan.id,
        "week": plan.week,
        "date_from": plan.date_from.isoformat(),
        "date_to": plan.date_to.isoformat(),
        "seed": plan.seed,
        "drawn_at": plan.drawn_at,
        "replaced_at": plan.replaced_at,
        "in_force": plan.in_force,
        "pairs": [{"pair": n, "inspectors": p} for n, p in enumerate(plan.pairs, start=1)],
        "inputs": {k: v for k, v in plan.inputs.to_json().items() if k != "candidates"},
        "candidates": sum(len(c) for c in plan.inputs.candidates.values()),
        "visits": [
            {
                "pair": v.pair,
                "code": v.code,
                "name": v.name,
                "site_type": v.site_type,
                "street": v.street,
                "address": v.address,
                "weight": v.weight,
                "reason": v.reason,
                **(
                    {
                        "state": v.state,
                        "inspection_no": v.inspection_no,
                        "inspected_on": v.inspected_on,
                        "by_other_pair": v.by_other_pair,
                    }
                    if v.state
                    else {}
                ),
            }  # fmt: skip
            for v in plan.visits
        ],
    }


def inputs_text(plan: Plan) -> str:
    """One line naming what the draw was made from (for the terminal and the 任务单)."""
    inputs = plan.inputs
    w = inputs.weights
    parts = [
        f"种子 {plan.seed}",
        f"每类 {inputs.per_type} 个",
        f"权重 recent={w.recent:g} score={w.score:g} open={w.open:g}",
    ]
    if inputs.cover_all:
        parts.append("先覆盖未检查点位")
    if inputs.avoid:
        parts.append("回避 " + "；".join(f"{k}={','.join(v)}" for k, v in inputs.avoid.items()))
    return "，".join(parts)


def plan_note(store: Store, site_id: str, day: date) -> str | None:
    """Whether an inspection of this 点位 on this day is one the week's plan asked for.

    None when the week has no plan (the office does not plan, or not this week).
    """
    visit = store.planned_visit(site_id, day)
    if visit is not None:
        return f"计划内：{visit['week']} 第{visit['pair']}组（{'、'.join(visit['inspectors'])}）"
    if store.plans_in_force(day, day):
        return "计划外：本周检查计划中没有此点位"
    return None

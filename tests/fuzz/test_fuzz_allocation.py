"""Fuzzing the allocation's files: planning.allocation readers and ``python -m planning allocate``.

Proposal and quota CSVs and rules files are generated with hostile cells
(NaN, inf, huge, negative, fractional, thousands separators, formulas, SQL,
control characters), hostile headers, ragged rows, broken quoting, BOMs and
CP949 or undecodable bytes. Each set of files ends in a bilingual
InvalidInput (exit status 1 from the command, with the code and the message
on stderr) or in decisions that never commit more than a district's quota.
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

from fuzzkit import assert_bilingual, count, fuzz_settings, outcome
from hypothesis import example, given
from hypothesis import strategies as st

from planning.allocation import allocate, goyang_district_names, read_proposals_csv, read_quotas_csv, read_rules
from planning.cli import main
from planning.errors import InvalidInput

HAENGSIN2, JUGYO = "4128165000", "4128151000"
NO_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:9/none"  # the command must not touch a database

numberish = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.integers(0, 10**9).map(str),
    st.integers(0, 10**9).map(lambda n: f"{n:,}"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "NaN", "nan", "-0", "1e3", "1.0", "1.5", "0x10", "١٢٣", "１２３", "=1+1", "@SUM(A1)", "1_000", "+5", "--5", "1,00"]),
)
cellish = st.one_of(
    numberish,
    st.text(max_size=12),
    st.sampled_from(["true", "false", "예", "아니오", "area", "individual", "AREA", "'; DROP TABLE x; --", "\x00", "\u202e", "\ufeff", '"', "a,b", "a\nb"]),
    st.sampled_from([HAENGSIN2, JUGYO, "4128164000", "0000000000", "1111051500"]),
)
PLAUSIBLE = {
    "id": st.text("abc123가나", min_size=1, max_size=4),
    "district_code": st.sampled_from([HAENGSIN2, JUGYO, "4128164000"]),
    "cost": st.integers(0, 60_000_000).map(str),
    "cost_krw": st.integers(0, 60_000_000).map(str),
    "quota": st.one_of(st.integers(0, 100_000_000).map(str), st.integers(0, 100_000_000).map(lambda n: f"{n:,}")),
    "votes": st.integers(0, 500).map(str),
    "kind": st.sampled_from(["area", "individual"]),
    "eligible": st.sampled_from(["true", "false", "예", ""]),
    "endorsed": st.sampled_from(["true", "false", ""]),
    "construction": st.sampled_from(["true", "false", "0", "1"]),
}
PROPOSAL_COLUMNS = ["id", "district_code", "cost", "cost_krw", "votes", "kind", "category", "eligible", "endorsed", "construction"]
header_name = st.one_of(st.sampled_from(PROPOSAL_COLUMNS + ["district_code", "quota", "quota_krw", " id ", "ID", "\ufeffid", ""]), st.text(max_size=6))


@st.composite
def csv_text(draw, columns: list[str]):
    """A CSV: usually the expected header (shuffled, with extras or gaps), rows of hostile cells, sometimes ragged."""
    header = list(draw(st.permutations(columns)))
    if draw(st.booleans()):
        header = [h for h in header if draw(st.integers(0, 9)) > 0]
    if draw(st.integers(0, 4)) == 0:
        header += draw(st.lists(header_name, max_size=3))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    clean = draw(st.integers(0, 2)) > 0  # two in three files hold plausible values, the rest hostile cells
    for n in range(draw(st.integers(0, 8))):
        row = [draw(PLAUSIBLE.get(h, cellish) if clean else cellish) for h in header]
        if clean and "id" in header:
            row[header.index("id")] = f"p{n}"
        if clean and "quota" in header and "district_code" in header:
            row[header.index("district_code")] = [HAENGSIN2, JUGYO, "4128164000", "4128152000"][n % 4]  # one quota each
        if draw(st.integers(0, 9)) == 0:
            row = row[: draw(st.integers(0, len(row)))] + draw(st.lists(cellish, max_size=2))
        writer.writerow(row)
    text = buf.getvalue()
    damage = draw(st.integers(0, 9)) if not clean else draw(st.integers(3, 12))
    if damage == 0:
        text = text[: draw(st.integers(0, len(text)))]
    elif damage == 1:
        text = draw(st.text(max_size=100))
    elif damage == 2:
        text = text.replace(",", '"', 1)  # an unbalanced quote
    return text


@st.composite
def encoded(draw, text_strategy):
    text = draw(text_strategy)
    how = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "cp949", "utf-16", "garbage"]))
    if how == "garbage":
        return draw(st.binary(max_size=200))
    return text.encode(how, "replace") if how != "utf-8" else text.encode("utf-8", "surrogatepass")


rules_text = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "endorsed_first: true\nconstruction_share: 0.5\npools:\n  area: 0.6\n  individual: 0.4\n",
            '{"pools": {"area": 0.6, "individual": 0.4}}',
            '{"pools": {"area": 0.9, "individual": 0.9}}',
            "construction_share: NaN\n",
            "construction_share: 1e999\n",
            "construction_share: -1\n",
            "pools: {area: 1/2, individual: 1/2}\n",
            "pools:\n  area: x\n",
            "endorsed_first: maybe\n",
            "unknown_rule: 1\n",
            "[1, 2, 3]",
            '"just text"',
            "{",
            "\x00\x00",
            "pools:\n    area: 0.5\n  individual: 0.5\n",
            "endorsed_first: true\nendorsed_first: false\n",
        ]
    ),
    st.text(max_size=80),
)


def check_decisions(decisions, quotas) -> None:
    spent: dict[str, int] = defaultdict(int)
    for d in decisions:
        assert d.reason("ko").strip() and d.reason("en").strip()
        if d.selected:
            spent[d.district_code] += d.cost_krw
            assert d.eligible
    for code, total in spent.items():
        assert total <= quotas.get(code, 0), f"district {code} over-committed: {total} > {quotas.get(code)}"


@fuzz_settings(scale=3)
@given(
    proposals=encoded(csv_text(["id", "district_code", "cost", "votes", "kind", "eligible", "endorsed", "construction"])),
    quotas=encoded(csv_text(["district_code", "quota"])),
    rules=st.one_of(st.none(), st.none(), rules_text),
)
@example(
    proposals=f"id,district_code,cost,votes\na,{HAENGSIN2},NaN,1\n".encode(),
    quotas=f"district_code,quota\n{HAENGSIN2},10\n".encode(),
    rules=None,
)
@example(
    proposals=f"id,district_code,cost,votes\na,{HAENGSIN2},{'9' * 5000},1\n".encode(),
    quotas=f"district_code,quota\n{HAENGSIN2},{'9' * 5000}\n".encode(),
    rules=None,
)
@example(
    proposals=("id,district_code,cost,votes\n" + "x" * 200_000 + f",{HAENGSIN2},1,1\n").encode(),
    quotas=f"district_code,quota\n{HAENGSIN2},10\n".encode(),
    rules=None,
)
def test_allocation_files(tmp_path_factory, proposals, quotas, rules):
    tmp = tmp_path_factory.mktemp("alloc")
    p, q, r = tmp / "p.csv", tmp / "q.csv", tmp / "rules.yaml"
    p.write_bytes(proposals)
    q.write_bytes(quotas)
    if rules is not None:
        r.write_text(rules, encoding="utf-8", errors="surrogatepass")
    count("allocation CSVs (planning.allocation readers + allocate)")
    try:
        rule_set = read_rules(r) if rules is not None else None
        props = read_proposals_csv(p, rule_set)
        quota = read_quotas_csv(q)
        decisions = allocate(props, quota, rule_set, district_names=goyang_district_names())
    except InvalidInput as err:
        assert_bilingual(err)
        outcome("allocation CSVs (planning.allocation readers + allocate)", False)
    else:
        assert len(decisions) == len(props)
        check_decisions(decisions, quota)
        outcome("allocation CSVs (planning.allocation readers + allocate)", True)

    count("allocation CLI (python -m planning allocate)")
    args = ["--database-url", NO_DATABASE, "allocate", "--proposals", str(p), "--quotas", str(q)]
    if rules is not None:
        args += ["--rules", str(r)]
    out = io.StringIO()
    err_buf = io.StringIO()
    import contextlib

    with contextlib.redirect_stderr(err_buf):
        status = main(args, out=out)
    assert status in (0, 1)
    outcome("allocation CLI (python -m planning allocate)", status == 0)
    if status == 0:
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert all(row["selected"] in ("true", "false") for row in rows)
    else:
        message = err_buf.getvalue()
        assert message.strip() and out.getvalue() == ""
        assert any("\uac00" <= ch <= "\ud7a3" for ch in message) and any("a" <= ch <= "z" for ch in message.lower())


@fuzz_settings(scale=1)
@given(st.lists(st.dictionaries(st.sampled_from(PROPOSAL_COLUMNS), cellish | st.integers() | st.floats() | st.none(), max_size=10), max_size=6),
       st.dictionaries(cellish | st.integers(), cellish | st.integers() | st.floats() | st.none(), max_size=4))
def test_allocate_in_memory(rows, quotas):
    """The API pages call with records (e.g. a DataFrame's ``to_dict("records")``): same rule."""
    count("allocation records (planning.allocation.allocate)")
    try:
        decisions = allocate(rows, quotas)
    except InvalidInput as err:
        assert_bilingual(err)
        outcome("allocation records (planning.allocation.allocate)", False)
        return
    outcome("allocation records (planning.allocation.allocate)", True)
    from planning.allocation import validate_quotas

    check_decisions(decisions, validate_quotas(quotas))


def test_missing_and_unreadable_files(tmp_path):
    count("allocation CLI (python -m planning allocate)", 3)
    d = tmp_path / "a-directory.csv"
    d.mkdir()
    for args in (["--proposals", str(tmp_path / "none.csv"), "--quotas", str(tmp_path / "none.csv")],
                 ["--proposals", str(d), "--quotas", str(d)],
                 ["--proposals", str(Path("/dev/null")), "--quotas", str(Path("/dev/null"))]):
        assert main(["--database-url", NO_DATABASE, "allocate", *args], out=io.StringIO()) == 1

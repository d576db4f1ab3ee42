"""``python -m planning allocate``: files in, CSV out, no database."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planning.cli import main

HAENGSIN2 = "4128165000"
JUGYO = "4128151000"
# An address nothing listens on: the command must not touch a database.
NO_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:9/none"

PROPOSALS = f"""id,district_code,cost,votes,kind,category,eligible,endorsed,construction
a,{HAENGSIN2},"38,000,000",100,individual,welfare,true,false,false
b,{HAENGSIN2},30000000,90,area,environment,true,false,true
c,{HAENGSIN2},9000000,70,area,culture,true,true,false
d,{HAENGSIN2},1000000,200,individual,welfare,false,false,false
j,{JUGYO},1000000,5,individual,,true,false,false
"""
QUOTAS = f"district_code,quota\n{HAENGSIN2},50000000\n4128152000,10000000\n"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def run(args, lang=None):
    out = io.StringIO()
    prefix = ["--database-url", NO_DATABASE] + (["--lang", lang] if lang else [])
    code = main([*prefix, "allocate", *args], out=out)
    return code, out.getvalue()


def rows_of(text):
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def files(tmp_path):
    return write(tmp_path, "p.csv", PROPOSALS), write(tmp_path, "q.csv", QUOTAS)


def test_allocate_writes_the_decisions_csv(files):
    p, q = files
    code, text = run(["--proposals", p, "--quotas", q])
    assert code == 0
    assert text.splitlines()[0] == "id,district_code,selected,rank,reason"
    rows = rows_of(text)
    assert [(r["id"], r["district_code"], r["selected"], r["rank"]) for r in rows] == [
        ("j", JUGYO, "false", "1"),
        ("d", HAENGSIN2, "false", "1"),
        ("a", HAENGSIN2, "true", "2"),
        ("b", HAENGSIN2, "false", "3"),
        ("c", HAENGSIN2, "true", "4"),
    ]
    reasons = {r["id"]: r["reason"] for r in rows}
    assert reasons["b"] == "미선정: 행신2동 잔액 12,000,000원, 이 제안 비용 30,000,000원"
    assert reasons["c"] == "선정: 행신2동 잔액 12,000,000원, 이 제안 비용 9,000,000원, 선정 후 잔액 3,000,000원"
    assert reasons["j"] == "미선정: 주교동에 배정된 예산이 없습니다"
    assert "부적격" in reasons["d"]


def test_allocate_in_english_with_rules_to_a_file(files, tmp_path):
    p, q = files
    rules = write(tmp_path, "rules.yaml", "endorsed_first: true\nconstruction_share: 0.5\npools:\n  area: 0.6\n  individual: 0.4\n")
    target = tmp_path / "out.csv"
    code, text = run(["--proposals", p, "--quotas", q, "--rules", rules, "--out", str(target)], lang="en")
    assert code == 0
    assert str(target) in text and "1/5" in text
    rows = {r["id"]: r for r in rows_of(target.read_text(encoding="utf-8"))}
    assert list(rows) == ["j", "c", "d", "a", "b"]  # the endorsed area proposal c first
    assert rows["c"]["rank"] == "1" and rows["c"]["selected"] == "true"
    assert rows["c"]["reason"].endswith("(assembly-endorsed area proposal, ranked first)")
    assert rows["a"]["reason"] == "not selected: 20,000,000 KRW left in the individual-proposal pool of 행신2동, this costs 38,000,000 KRW"
    assert rows["d"]["rank"] == "2" and rows["d"]["selected"] == "false"
    # area pool 30M, less c's 9M: too little for b; the individual pool's 20M is not moved over
    assert rows["b"]["reason"] == "not selected: 21,000,000 KRW left in the area-proposal pool of 행신2동, this costs 30,000,000 KRW"


def test_pools_from_a_json_rules_file(tmp_path):
    p = write(tmp_path, "p.csv", f"id,district_code,cost,votes,kind\nx,{HAENGSIN2},25,9,individual\ny,{HAENGSIN2},30,1,area\n")
    q = write(tmp_path, "q.csv", f"district_code,quota\n{HAENGSIN2},100\n")
    r = write(tmp_path, "r.json", '{"pools": {"area": 0.6, "individual": 0.4}}')
    code, text = run(["--proposals", p, "--quotas", q, "--rules", r], lang="en")
    assert code == 0
    rows = {row["id"]: row for row in rows_of(text)}
    assert rows["x"]["selected"] == "true" and rows["y"]["selected"] == "true"
    assert rows["x"]["reason"] == "selected: 40 KRW left in the individual-proposal pool of 행신2동, this costs 25 KRW, 15 KRW left after this"


def test_cp949_files_and_optional_columns(tmp_path):
    p = write(tmp_path, "p.csv", f"id,district_code,cost_krw,votes\n가,{HAENGSIN2},10,1\n", encoding="cp949")
    q = write(tmp_path, "q.csv", f"district_code,quota_krw\n{HAENGSIN2},10\n", encoding="cp949")
    code, text = run(["--proposals", p, "--quotas", q])
    assert code == 0
    assert rows_of(text)[0]["id"] == "가" and rows_of(text)[0]["selected"] == "true"


def test_rows_are_numbered_as_in_a_spreadsheet(tmp_path, capsys):
    p = write(tmp_path, "p.csv", f"id,district_code,cost,votes\na,{HAENGSIN2},10,1\nb,{HAENGSIN2},-10,1\n")
    q = write(tmp_path, "q.csv", f"district_code,quota\n{HAENGSIN2},10\n")
    code, text = run(["--proposals", p, "--quotas", q])
    assert code == 1 and text == ""
    err = capsys.readouterr().err
    assert "invalid_proposal" in err
    assert "제안 3행 (id b)의 비용(cost) 음수입니다" in err
    assert "Proposal row 3 (id b): cost is negative (-10)" in err


BAD_PROPOSALS = [
    ("missing_column", f"id,district_code,votes\na,{HAENGSIN2},1\n", ("cost 열이 없습니다", "no cost column")),
    ("duplicate_proposal_id", f"id,district_code,cost,votes\na,{HAENGSIN2},1,1\na,{HAENGSIN2},2,2\n", ("3행", "row 3 has id a")),
    ("invalid_proposal", f"id,district_code,cost,votes\na,{HAENGSIN2},nan,1\n", ("NaN", "cost is NaN")),
    ("invalid_proposal", f"id,district_code,cost,votes\na,{HAENGSIN2},1.5,1\n", ("정수가 아닙니다", "not a whole number")),
    ("invalid_proposal", f"id,district_code,cost,votes\na,{HAENGSIN2},1,\n", ("비어 있습니다", "votes is empty")),
    ("invalid_proposal", f"id,district_code,cost,votes,eligible\na,{HAENGSIN2},1,1,maybe\n", ("적격", "eligible is not true or false")),
    ("bad_csv", "", ("비어 있습니다", "is empty")),
    ("bad_csv", f"id,district_code,cost,votes\na,{HAENGSIN2},1,1,extra\n", ("칸이 많습니다", "more cells than the header")),
]


@pytest.mark.parametrize(("code", "content", "needles"), BAD_PROPOSALS)
def test_bad_proposals_file_exits_1_with_a_bilingual_message(tmp_path, capsys, code, content, needles):
    p = write(tmp_path, "p.csv", content)
    q = write(tmp_path, "q.csv", QUOTAS)
    status, text = run(["--proposals", p, "--quotas", q])
    assert status == 1 and text == ""
    err = capsys.readouterr().err
    assert err.startswith(code + ":")
    assert needles[0] in err and needles[1] in err
    assert " / " in err and p in err


@pytest.mark.parametrize(
    ("content", "needle_en"),
    [
        (f"district_code,quota\n{HAENGSIN2},-1\n", "is negative"),
        (f"district_code,quota\n{HAENGSIN2},1\n{HAENGSIN2},2\n", "two quotas"),
        (f"district_code,quota\n{HAENGSIN2},\n", "is empty"),
        (f"district_code\n{HAENGSIN2}\n", "no quota column"),
    ],
)
def test_bad_quotas_file_exits_1(tmp_path, capsys, content, needle_en):
    p = write(tmp_path, "p.csv", PROPOSALS)
    q = write(tmp_path, "q.csv", content)
    assert run(["--proposals", p, "--quotas", q]) == (1, "")
    err = capsys.readouterr().err
    assert needle_en in err and "배정액" in err


@pytest.mark.parametrize(
    ("rules", "needle_en"),
    [
        ("pools: {area: 0.7, individual: 0.4}\n", "add up to more than 1"),
        ("construction_shares: 0.5\n", "Unknown rule: construction_shares"),
        ("endorsed_first: maybe\n", "endorsed_first must be true or false"),
    ],
)
def test_bad_rules_file_exits_1(files, tmp_path, capsys, rules, needle_en):
    p, q = files
    r = write(tmp_path, "r.yaml", rules)
    assert run(["--proposals", p, "--quotas", q, "--rules", r]) == (1, "")
    err = capsys.readouterr().err
    assert err.startswith("invalid_rules:") and needle_en in err and "배분 규칙" in err


def test_a_rule_needs_its_column(tmp_path, capsys):
    p = write(tmp_path, "p.csv", f"id,district_code,cost,votes\na,{HAENGSIN2},1,1\n")
    q = write(tmp_path, "q.csv", QUOTAS)
    r = write(tmp_path, "r.yaml", "construction_share: 0.5\n")
    assert run(["--proposals", p, "--quotas", q, "--rules", r]) == (1, "")
    assert "no construction column" in capsys.readouterr().err


def test_missing_files_and_arguments(tmp_path, capsys, files):
    p, q = files
    assert run(["--proposals", str(tmp_path / "none.csv"), "--quotas", q]) == (1, "")
    err = capsys.readouterr().err
    assert "파일이 없습니다" in err and "does not exist" in err
    assert run(["--proposals", p]) == (1, "")  # --quotas is required
    assert run(["--proposals", p, "--quotas", q, "--out", str(tmp_path / "no" / "dir.csv")]) == (1, "")
    assert "cannot write the output file" in capsys.readouterr().err


def test_python_m_planning_allocate(files):
    p, q = files
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DATABASE_URL": NO_DATABASE}
    done = subprocess.run(
        [sys.executable, "-m", "planning", "--lang", "en", "allocate", "--proposals", p, "--quotas", q],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert rows_of(done.stdout)[2] == {
        "id": "a",
        "district_code": HAENGSIN2,
        "selected": "true",
        "rank": "2",
        "reason": "selected: 50,000,000 KRW left in 행신2동, this costs 38,000,000 KRW, 12,000,000 KRW left after this",
    }
    bad = subprocess.run(
        [sys.executable, "-m", "planning", "allocate", "--proposals", q, "--quotas", q],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 1 and "missing_column" in bad.stderr and bad.stdout == ""

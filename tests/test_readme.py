"""The README's two set-up commands, and CI running exactly the test command."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```\n(.*?)```", setup, flags=re.S)]


def test_exactly_two_commands_install_run_and_test():
    commands = readme_commands()
    assert len(commands) == 2
    run, test = commands
    assert "\n" not in run and "\n" not in test
    assert "requirements.txt" in run and "seed-demo" in run and "streamlit run streamlit_app.py" in run
    assert "requirements-test.txt" in test and "pytest" in test


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert readme_commands()[1] in ci
    assert any("REQUIRE_POSTGIS=1" in line for line in ci)
    assert any("postgresql-15-postgis-3" in line for line in ci)


def test_requirements_are_pinned():
    for name in ("requirements.txt", "requirements-test.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-r")):
                assert "==" in line, f"{name}: {line} is not pinned"

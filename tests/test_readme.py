"""The README's promises: the Quick start commands, and CI running its test command verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_two_quick_start_commands():
    assert quick_start_commands() == [
        'pip install . && attnviz explain "고양이는 침대에서 잔다"',
        'pip install ".[test]" && pytest',
    ]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_commands()[1] in ci.splitlines()


def test_readme_images_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in re.findall(r"\]\((docs/[^)]+)\)", readme):
        assert (ROOT / path).is_file(), path

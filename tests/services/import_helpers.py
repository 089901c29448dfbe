"""The import fixture set (tests/data/import/good) and bad copies of it."""

import shutil
from pathlib import Path

GOOD_SET = Path(__file__).resolve().parent.parent / "data" / "import" / "good"


def copy_of_good_set(tmp_path: Path, name: str = "set") -> Path:
    target = tmp_path / name
    shutil.copytree(GOOD_SET, target)
    return target


def bad_set(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the good set with one text replaced in one file."""
    directory = copy_of_good_set(tmp_path)
    path = directory / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return directory

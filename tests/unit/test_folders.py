"""Walking a folder with ``os.scandir`` picks and orders files as
``sorted(Path.rglob("*"))`` does (rule folders and event folders are read that way)."""

from __future__ import annotations

from pathlib import Path

from drillbook.detection.sigma_sqlite import rule_files
from drillbook.documents.folders import files_below


def _tree(root: Path) -> Path:
    folder = root / "rules"
    for name in ["a/z.yml", "a-b/x.yml", "a.yml", "B.yaml", "a/.hidden.yml", "c/d/e.yaml"]:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("title: x\n")
    for name in ["a/notes.txt", "a/.yml", "c/rule.YML", "c/d/trailing.", ".git/config"]:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x")
    (folder / "dir.yml").mkdir()
    (root / "elsewhere").mkdir()
    (root / "elsewhere" / "far.yml").write_text("title: x\n")
    (folder / "link").symlink_to(root / "elsewhere")  # a link to a folder: not followed
    (folder / "linked.yml").symlink_to(folder / "a.yml")  # a link to a file: kept
    (folder / "dangling.yml").symlink_to(root / "nowhere.yml")
    return folder


def test_files_below_a_folder_come_as_rglob_gives_them(tmp_path: Path) -> None:
    folder = _tree(tmp_path)
    assert files_below(folder) == sorted(p for p in folder.rglob("*") if p.is_file())
    suffixes = {".yml", ".yaml"}
    assert files_below(folder, suffixes) == sorted(
        p for p in folder.rglob("*") if p.suffix in suffixes and p.is_file()
    )


def test_rule_files_come_in_the_order_of_their_paths(tmp_path: Path) -> None:
    """Part by part: ``a/z.yml`` before ``a-b/x.yml`` (as strings, ``-`` sorts first)."""
    found = rule_files(_tree(tmp_path))
    assert [p.relative_to(tmp_path / "rules").as_posix() for p in found] == [
        "B.yaml",
        "a/.hidden.yml",
        "a/z.yml",
        "a-b/x.yml",
        "a.yml",
        "c/d/e.yaml",
        "linked.yml",
    ]

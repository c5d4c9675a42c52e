"""The read pipeline only reads: a deep check (every key file parsed, every store opened) and
a list leave every path of the tree as they found it when backups are off."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.conftest import EXAMPLES


def _snapshot(root: Path) -> dict[str, tuple[int, int, int, int]]:
    """Each path under root: inode, size, mtime (ns) and mode, as lstat sees them."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            found[os.path.relpath(path, root)] = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode)
    return found


def test_a_deep_check_and_a_list_change_nothing_in_the_tree(tmp_path, cli) -> None:
    tree = Path(shutil.copytree(EXAMPLES, tmp_path / "sessions", symlinks=True,
                                ignore=shutil.ignore_patterns(".wadoctor")))
    before = _snapshot(tree)
    assert len(before) > 50
    for args in (["check", "--deep", "--no-backup", "--json"], ["check", "--no-backup"], ["list", "-v"]):
        run = cli(*args, tree, cwd=tmp_path)
        assert run.code in (0, 1, 2), run
    after = _snapshot(tree)
    assert after == before, {k: (before.get(k), after.get(k)) for k in set(before) | set(after)
                             if before.get(k) != after.get(k)}

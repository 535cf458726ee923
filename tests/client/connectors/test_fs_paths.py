"""The Local FS connector's confinement: `..` and symlinks cannot leave the shared folders."""

from __future__ import annotations

import os

import pytest

from client.connectors.fs_paths import OutsideRootsError, Roots


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "shared"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("inside")
    (root / "sub" / "b.txt").write_text("deeper")
    (tmp_path / "secret.txt").write_text("outside")
    (tmp_path / "shared-evil").mkdir()  # a sibling whose name starts like the root
    (tmp_path / "shared-evil" / "x.txt").write_text("sibling")
    os.symlink(tmp_path / "secret.txt", root / "link-out")
    os.symlink(tmp_path, root / "dir-out")
    os.symlink(root / "a.txt", root / "link-in")
    return tmp_path, root


@pytest.mark.parametrize(
    "path",
    [
        "../secret.txt",
        "sub/../../secret.txt",
        "link-out",
        "dir-out/secret.txt",
        "/etc/passwd",
        "../shared-evil/x.txt",
        "x\x00y",
    ],
)
def test_escapes_are_refused(tree, path):
    _, root = tree
    roots = Roots([root])
    with pytest.raises(OutsideRootsError):
        roots.resolve(path)
    with pytest.raises(OutsideRootsError):
        roots.open_file(path)


def test_inside_paths_work(tree):
    _, root = tree
    roots = Roots([root])
    for path in ("a.txt", "sub/../a.txt", "link-in", str(root / "sub" / "b.txt")):
        real, fd = roots.open_file(path)
        os.close(fd)
        assert real.startswith(str(root))


def test_walk_skips_symlinks_out(tree):
    _, root = tree
    found = list(Roots([root]).walk_files(str(root), 100))
    assert sorted(os.path.relpath(p, root) for p in found) == ["a.txt", "sub/b.txt"]


def test_a_root_that_is_not_a_folder_is_refused(tmp_path):
    with pytest.raises(ValueError):
        Roots([tmp_path / "missing"])

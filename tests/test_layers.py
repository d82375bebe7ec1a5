"""The shape of the code, checked by machine beside import-linter's contracts (pyproject.toml).

- Every top-level package resolves inside this repository (PyPI has unrelated ``contexts``,
  ``verifier`` and ``keys`` packages; a wrong one on the path would be used silently).
- No package has an import cycle between its modules: a cycle means two modules cannot be
  understood, tested or changed apart (the composition root, :mod:`issuer.services.bootstrap`,
  exists so that services can build on :mod:`issuer.services.runtime` without one).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import grimp
import pytest

PACKAGES = ("contexts", "keys", "webplatform", "verifier", "issuer")
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", PACKAGES)
def test_package_resolves_inside_the_repository(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == ROOT / name


def _cycles(package: str) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    graph = grimp.build_graph(package, include_external_packages=False)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges[node]
            if position < len(targets):
                work.append((node, position + 1))
                target = targets[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            for target in targets:
                if target in on_stack:
                    low[node] = min(low[node], low[target])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


@pytest.mark.parametrize("name", PACKAGES)
def test_no_import_cycle(name: str) -> None:
    assert _cycles(name) == []


def test_cycle_finder_finds_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "cyclic_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic_probe import b\n")
    (package / "b.py").write_text("def f() -> None:\n    from cyclic_probe import a\n")
    (package / "c.py").write_text("from cyclic_probe import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _cycles("cyclic_probe") == [["cyclic_probe.a", "cyclic_probe.b"]]

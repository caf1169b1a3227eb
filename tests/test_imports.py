"""The one-way import rule: data flows left to right, and a module imports only from its left.

    data -> cells -> layers -> nn -> models -> checkpoint -> train -> infer -> tasks -> diagnostics -> cli

A module may import rnnkit modules from its own position or to its left. ``rnnkit.config`` is a
leaf that anyone may import and that itself imports nothing from rnnkit. The top-level
``rnnkit/__init__.py`` (and a ``rnnkit/__main__.py`` entry point, should one appear) is exempt.
Positions that do not exist yet are simply absent; every .py file under src/rnnkit is checked,
so new files are picked up, and a new top-level module that is not placed in ``ORDER`` fails
until someone decides where it belongs.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "rnnkit"
ROOT = Path(__file__).resolve().parents[1] / "src" / PACKAGE

#: Top-level subpackages / modules in data-flow order (left may be imported by right).
ORDER = ("data", "cells", "layers", "nn", "models", "checkpoint", "train", "infer", "tasks", "diagnostics", "cli")
#: Importable by anyone; imports nothing from rnnkit itself.
LEAVES = ("config",)
#: Files at the top of the package that are not part of the flow.
EXEMPT = ("__init__", "__main__")


def module_name(path: Path, root: Path) -> tuple[str, bool]:
    """('rnnkit.layers.fused', is_package) for a file under ``root`` (the package directory)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join([root.name, *parts]), is_package


def rnnkit_imports(tree: ast.AST, name: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute name) of every import from rnnkit, relative ones resolved; anywhere in
    the file (inside functions and ``if TYPE_CHECKING:`` too). ``from rnnkit import x`` gives
    ``rnnkit.x``, whether x is a module or a name defined in rnnkit/__init__.py."""
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == PACKAGE]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != PACKAGE:
                continue
            if base == PACKAGE:
                found += [(node.lineno, f"{PACKAGE}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, base))
    return found


def violations(root: Path = ROOT) -> list[tuple[str, int, str]]:
    """Every breach of the import rule under ``root``: (file, line (0: the file itself), message)."""
    top_level = {p.stem for p in root.glob("*.py")}
    top_level |= {p.name for p in root.iterdir() if (p / "__init__.py").exists()}
    position = {m: i for i, m in enumerate(ORDER)}
    problems = []
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        name, is_package = module_name(path, root)
        rel = path.relative_to(root.parent).as_posix()
        parts = name.split(".")
        if len(parts) == 1 or (len(parts) == 2 and parts[1] in EXEMPT):
            continue  # rnnkit/__init__.py, rnnkit/__main__.py
        source = parts[1]
        if source not in position and source not in LEAVES:
            problems.append(
                (
                    rel,
                    0,
                    f"top-level module {source!r} has no place in ORDER {ORDER}; "
                    "add it at its position in the data flow (or to LEAVES)",
                )
            )
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, target in rnnkit_imports(tree, name, is_package):
            t_parts = target.split(".")
            dest = t_parts[1] if len(t_parts) > 1 else None  # None: the package root itself
            if source in LEAVES:
                if dest != source:
                    problems.append(
                        (rel, line, f"{target} imported by the leaf {name}, which must import nothing from rnnkit")
                    )
                continue
            if dest is None or dest in LEAVES or (dest.startswith("__") and dest.endswith("__")):
                continue  # `import rnnkit`, the leaf config, rnnkit.__version__
            if dest not in top_level:
                problems.append(
                    (
                        rel,
                        line,
                        f"{name} imports {dest!r} from the package root, which is "
                        "exempt from the rule (it may pull in anything): import it "
                        "from its own module",
                    )
                )
            elif dest not in position:
                problems.append((rel, line, f"{target} is not in ORDER {ORDER}"))
            elif position[dest] > position[source]:
                problems.append(
                    (
                        rel,
                        line,
                        f"{name} ({source}) imports {target} ({dest}), which is to its right in {' -> '.join(ORDER)}",
                    )
                )
    return problems


def test_src_follows_the_one_way_import_rule():
    problems = violations()
    assert not problems, "import rule broken:\n" + "\n".join(f"{f}:{n}: {m}" for f, n, m in problems)


def test_the_checker_sees_the_package():
    # guards against a vacuous pass (e.g. ROOT pointing at the wrong place)
    assert (ROOT / "cells" / "lstm.py").exists()
    tree = ast.parse((ROOT / "layers" / "stack.py").read_text(encoding="utf-8"))
    found = {t for _, t in rnnkit_imports(tree, "rnnkit.layers.stack", False)}
    assert {"rnnkit.cells", "rnnkit.layers.fused"} <= found


def test_the_checker_flags_synthetic_violations(tmp_path):
    files = {
        "__init__.py": "from rnnkit.cli import main\n__version__ = '1'\n",  # exempt
        "config.py": "import dataclasses\nfrom rnnkit.cells import make_cell\n",  # leaf importing: bad
        "data/__init__.py": "from rnnkit import config\nfrom rnnkit import layers\n",  # ok, then bad
        "cells/__init__.py": "from rnnkit.data import x\nfrom rnnkit.config import C\n",  # ok
        # relative import to the right: bad; sibling: ok; absolute import to the right: bad
        "cells/lstm.py": "from ..layers import fused\nfrom . import base\nimport rnnkit.cli.main\n",
        # the root package and its dunders: ok; a name re-exported by the root: bad
        "cells/base.py": ("import torch\nimport rnnkit\nfrom rnnkit import __version__\nfrom rnnkit import main\n"),
        "layers/__init__.py": "from .fused import f\nfrom rnnkit.cells.lstm import LSTMCell\n",  # ok
        "layers/fused.py": "def f():\n    from rnnkit.models import lm\n",  # bad, even inside a function
        "cli/__init__.py": "",
        "cli/main.py": "from rnnkit.layers import fused\nfrom ..data import x\n",  # ok
        "utils.py": "x = 1\n",  # unknown top-level module
    }
    root = tmp_path / "rnnkit"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    problems = violations(root)
    assert sorted((f, n) for f, n, _ in problems) == [
        ("rnnkit/cells/base.py", 4),
        ("rnnkit/cells/lstm.py", 1),
        ("rnnkit/cells/lstm.py", 3),
        ("rnnkit/config.py", 2),
        ("rnnkit/data/__init__.py", 2),
        ("rnnkit/layers/fused.py", 2),
        ("rnnkit/utils.py", 0),
    ], problems
    messages = {(f, n): m for f, n, m in problems}
    assert messages[("rnnkit/cells/lstm.py", 1)].startswith(
        "rnnkit.cells.lstm (cells) imports rnnkit.layers (layers), which is to its right"
    )
    assert "must import nothing from rnnkit" in messages[("rnnkit/config.py", 2)]
    assert "imports 'main' from the package root" in messages[("rnnkit/cells/base.py", 4)]
    assert "'utils' has no place in ORDER" in messages[("rnnkit/utils.py", 0)]

"""Package contract: rnnkit.data is the leftmost package (no file in it, subpackages included, imports
anything else from rnnkit) and only the two batchers (stream windows and padded batches) need torch."""

import ast
import subprocess
import sys
from pathlib import Path

import rnnkit.data

DATA_DIR = Path(rnnkit.data.__file__).parent


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(relative level, module) for every import in a file; level 0 = absolute."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(0, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


def data_files() -> list[Path]:
    return sorted(p for p in DATA_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def test_imports_nothing_else_from_rnnkit():
    for path in data_files():
        package = ["rnnkit", *path.parent.relative_to(DATA_DIR.parent).parts]  # e.g. rnnkit.data.vocab
        for level, module in imports_of(path):
            if level:  # resolve a relative import against the file's package
                base = package[: len(package) - (level - 1)]
                where = f"{path.name} imports from outside rnnkit.data: {'.' * level}{module}"
                assert base[:2] == ["rnnkit", "data"], where
            elif module == "rnnkit" or module.startswith("rnnkit."):
                assert module.startswith("rnnkit.data"), f"{path.name} imports {module}"


def test_only_the_batchers_import_torch():
    users = {
        path.relative_to(DATA_DIR).as_posix()
        for path in data_files()
        if any(level == 0 and module.split(".")[0] == "torch" for level, module in imports_of(path))
    }
    assert users == {"batching/streams.py", "batching/padded.py"}


def test_vocab_and_lines_work_without_torch():
    code = (
        "import sys; sys.modules['torch'] = None\n"  # any import of torch now fails
        "import rnnkit.data as d\n"
        "v = d.line_vocab('ab\\nba')\n"
        "assert v.decode(d.lines_to_ids('ab', v)) == '<bos>ab<eos>'\n"
        "assert 'rnnkit.data.batching' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_public_names():
    for name in rnnkit.data.__all__:
        assert getattr(rnnkit.data, name) is not None

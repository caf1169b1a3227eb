"""Package contract: rnnkit.data is the leftmost module (imports nothing else from rnnkit) and only
the two batchers (stream windows and padded batches) need torch."""

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


def test_imports_nothing_else_from_rnnkit():
    for path in sorted(DATA_DIR.glob("*.py")):
        for level, module in imports_of(path):
            assert level <= 1, f"{path.name} imports from outside rnnkit.data: {'.' * level}{module}"
            if level == 0 and (module == "rnnkit" or module.startswith("rnnkit.")):
                assert module.startswith("rnnkit.data"), f"{path.name} imports {module}"


def test_only_the_batchers_import_torch():
    users = {
        path.name
        for path in DATA_DIR.glob("*.py")
        if any(level == 0 and module.split(".")[0] == "torch" for level, module in imports_of(path))
    }
    assert users == {"batching.py", "padded.py"}


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

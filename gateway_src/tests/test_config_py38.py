"""The validator is also Ansible module_utils: it must parse and run on Python 3.8 (stdlib only)."""

from __future__ import annotations

import ast
import glob
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "picoclaw_gateway" / "config_validator"
MODULES = sorted(PACKAGE.glob("*.py"))
# The collection ships the same package: a directory of one symlink per file (ansible-test's
# sanity rejects a symlink to a directory).
ANSIBLE_PACKAGE = ROOT.parent / "plugins" / "module_utils" / "config_validator"

SCRIPT = """
import glob, json, sys
sys.path.insert(0, sys.argv[1])
import config_validator as cv
assert sys.version_info[:2] == (3, 8), sys.version
for path in sorted(glob.glob(sys.argv[2] + "/*.json")):
    result = cv.validate_file(path)
    assert result.valid, (path, [str(e) for e in result.errors])
    json.dumps(result.as_dict())
for text in ["", "{", "[" * 100000, '{"a": NaN}', b"\\xff\\xfe", b"\\x80", '{"a": 1, "a": 2}']:
    result = cv.validate_text(text)
    assert not result.valid and result.errors[0].path.startswith("$"), text
bad = json.load(open(sys.argv[2] + "/multi-channel.json"))
bad["channels"][0]["allowed_users"] = ["@x", -5, True]
bad["llm"]["api_key"] = "YOUR_API_KEY"
print(len(cv.validate(bad).errors))
"""


def python38() -> str | None:
    """A working 3.8 interpreter (pyenv shims may exist without a usable version behind them)."""
    pyenv = sorted(glob.glob(str(Path.home() / ".pyenv" / "versions" / "3.8*" / "bin" / "python3.8")))
    for candidate in [*pyenv, shutil.which("python3.8")]:
        if candidate and subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


def test_syntax_is_python38() -> None:
    assert (PACKAGE / "__init__.py") in MODULES
    for module in MODULES:
        ast.parse(module.read_text(encoding="utf-8"), feature_version=(3, 8))


def test_ansible_module_utils_links_are_the_same_files() -> None:
    links = sorted(path for path in ANSIBLE_PACKAGE.iterdir() if path.name != "__pycache__")
    assert [link.name for link in links] == [module.name for module in MODULES]
    for link in links:
        assert link.is_symlink(), f"{link} must be a symlink into the gateway package"
        assert link.resolve() == (PACKAGE / link.name).resolve()


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_only_standard_library_imports(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0] if isinstance(node, ast.ImportFrom) else alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0)
        for alias in node.names
    }
    allowed = {"__future__", "copy", "difflib", "ipaddress", "json", "math", "os", "re", "stat", "urllib"}
    allowed.add("zoneinfo")  # stdlib from 3.9; schedules_section.py checks only the form without it
    assert imported <= allowed
    # Relative imports only reach sibling modules of this package (the same in both trees).
    siblings = {path.stem for path in MODULES}
    relative = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    assert all(node.level == 1 and node.module in siblings for node in relative), module.name
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not calls & {"print", "exit", "quit"}


@pytest.mark.skipif(python38() is None, reason="no Python 3.8 interpreter on this machine")
@pytest.mark.parametrize("package", [PACKAGE, ANSIBLE_PACKAGE], ids=["gateway", "module_utils"])
def test_runs_on_python38(package: Path) -> None:
    proc = subprocess.run(
        [str(python38()), "-c", SCRIPT, str(package.parent), str(ROOT / "examples")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "4"

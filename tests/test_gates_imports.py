"""Start-up: no module under gates/ loads pandas, scipy or scikit-learn when it is
imported; they load inside the functions that run them (a gate, a report)."""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "scipy", "sklearn")
MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for path in (ROOT / "gates").rglob("*.py") if "migrations" not in path.parts
)


def module_level_imports(path):
    """The module names imported by statements outside any function or class body."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("module", MODULES)
def test_no_heavy_import_at_module_level(module):
    path = ROOT / Path(*module.split(".")).with_suffix(".py")
    heavy = [name for name in module_level_imports(path) if name.split(".")[0] in HEAVY]
    assert heavy == [], f"{module} imports {heavy} at module level"


def test_importing_every_gates_module_loads_none_of_them():
    # A fresh process: after Django is set up (whatever the other apps load), importing
    # the gates package, its library and the URL conf adds none of the heavy libraries.
    script = (
        "import json, os, sys, importlib\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "import django; django.setup()\n"
        f"heavy = {HEAVY!r}\n"
        "before = {m.split('.')[0] for m in sys.modules} & set(heavy)\n"
        f"for name in {MODULES!r} + ['config.urls']: importlib.import_module(name)\n"
        "after = {m.split('.')[0] for m in sys.modules} & set(heavy)\n"
        "print(json.dumps(sorted(after - before)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []

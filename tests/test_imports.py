"""Importing any gaedu module does no work: no output, no data, no heavy imports, nothing of the book's build."""

import pkgutil
import subprocess
import sys

import gaedu

MODULES = sorted(f"gaedu.{m.name}" for m in pkgutil.iter_modules(gaedu.__path__) if m.name != "__main__")


def test_every_module_imports_silently_and_lazily():
    code = (
        "import sys, importlib\n"
        f"for name in {MODULES!r}: importlib.import_module(name)\n"
        "print('sklearn' in sys.modules, 'sphinx' in sys.modules)\n"
        "import gaedu.data\n"
        "print(gaedu.data._digits_arrays.cache_info().currsize)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stderr == ""
    # scikit-learn is imported, and the digits loaded, only when a function asks for them;
    # Sphinx (the book's build, not a dependency of the package) never is
    assert result.stdout.split() == ["False", "False", "0"]

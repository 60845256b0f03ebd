"""Build step: ship the clone's ``notebooks/`` and ``data/sample/`` inside the wheel.

They stay where a clone has them (one copy in git, the paths users and docs expect); the wheel gets them
as package data ``marksell/notebooks/`` and ``marksell/sample_data/``, which ``marksell.paths`` finds
through ``importlib.resources``. Editable installs need no copy: ``paths`` falls back to the clone.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = {"notebooks": ("notebooks", "[0-9]*.ipynb"), "sample_data": ("data/sample", "*")}


class BuildWithData(build_py):
    """``build_py`` that also copies the notebooks and the sample company into the built package."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for target, (source, pattern) in SHIPPED.items():
            files = sorted(p for p in (ROOT / source).glob(pattern) if p.is_file())
            if not files:
                raise SystemExit(f"setup.py: nothing matches {source}/{pattern}; build from a clone or an sdist")
            dest = Path(self.build_lib) / "marksell" / target
            dest.mkdir(parents=True, exist_ok=True)
            for f in files:
                shutil.copy2(f, dest / f.name)


setup(cmdclass={"build_py": BuildWithData})

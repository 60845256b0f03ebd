"""Render a run's ``report.html`` to ``report.pdf`` with headless Chromium (the system's package).

Chromium prints the self-contained page as a reader sees it; nothing is fetched from the network (the page has
no external resources, and background networking is switched off). Where no Chromium is installed the error
says how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from marksell.errors import MarksellError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
)


class PdfError(MarksellError):
    """The PDF could not be made (no browser, or the browser failed)."""


def find_browser() -> str | None:
    """Path of a Chromium-family browser (``MARKSELL_CHROMIUM`` overrides the search), or None."""
    override = os.environ.get("MARKSELL_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def render_pdf(run_folder: str | Path, *, timeout: int = 120) -> Path:
    """Write ``report.pdf`` beside ``report.html`` in ``run_folder`` and return its path."""
    folder = Path(run_folder)
    page = folder / "report.html"
    if not page.is_file():
        raise PdfError(
            f"{folder}: no report.html here; give the folder of a finished run (e.g. reports/2026-01-31/customer_segmentation)"
        )
    browser = find_browser()
    if browser is None:
        raise PdfError(
            "no Chromium found for PDF output; install it (Debian/Ubuntu: `apt-get install chromium`, "
            "macOS: `brew install --cask chromium`) or set MARKSELL_CHROMIUM to its path"
        )
    out = folder / "report.pdf"
    tmp = folder / ".report.pdf.tmp"
    with tempfile.TemporaryDirectory(prefix="marksell-chromium-") as profile:
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", page.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        raise PdfError(f"Chromium could not print {page} (exit {proc.returncode}): {' | '.join(tail)}")
    tmp.replace(out)
    return out

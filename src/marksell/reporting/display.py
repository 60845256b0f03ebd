"""Safe display of text built from data (product, customer, channel names) in notebooks and reports.

Markdown output is rendered to HTML in JupyterLab and in the reviewers' report, and raw HTML inside
Markdown passes through. Text that comes from data is therefore escaped (``<``, ``>``, ``&``) before
it is shown; Markdown emphasis, lists and code spans are unaffected.
"""

from __future__ import annotations

import html

from IPython.display import Markdown as _Markdown


def escape_text(text: str) -> str:
    """``text`` with the HTML-active characters escaped."""
    return html.escape(str(text), quote=False)


def Markdown(text: str) -> _Markdown:  # noqa: N802 - a drop-in for IPython.display.Markdown
    """IPython's Markdown display of ``text`` with any HTML in it escaped."""
    return _Markdown(escape_text(text))

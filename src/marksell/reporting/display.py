"""Safe display of text built from data (product, customer, channel names) in notebooks and reports.

Markdown output is rendered to HTML in JupyterLab and in the reviewers' report, and raw HTML inside
Markdown passes through. Text that comes from data is therefore escaped before it is shown: ``<``, ``>``,
``&`` (no HTML), ``[`` and ``]`` (no links or images: ``[click](javascript:...)``, ``![t](http://host/x.png)``
become plain text), ``://`` (no bare-URL autolinks) and ``$`` (no math). Emphasis, lists and code spans that
the helpers write are unaffected.
"""

from __future__ import annotations

import html

from IPython.display import Markdown as _Markdown

_MARKDOWN_ACTIVE = {"[": "&#91;", "]": "&#93;", "$": "&#36;"}


def escape_text(text: str) -> str:
    """``text`` with the HTML-active characters and the Markdown link, image and math syntax escaped."""
    out = html.escape(str(text), quote=False)
    out = "".join(_MARKDOWN_ACTIVE.get(ch, ch) for ch in out)
    return out.replace("://", "&#58;//")


def Markdown(text: str) -> _Markdown:  # named like the IPython.display.Markdown it replaces
    """IPython's Markdown display of ``text`` with any HTML in it escaped."""
    return _Markdown(escape_text(text))

"""Make rendered report HTML inert and self-contained, whatever the origin of its content.

Reports embed text built from data (product, region and opportunity names). :mod:`marksell.display`
escapes that text, and this module is the second line: every tag of the finished page is rewritten so that
no ``javascript:``/``vbscript:``/non-image ``data:`` URL survives in any attribute, no element loads an
external resource (images, scripts, frames, stylesheets, media, CSS ``url(...)`` and ``@import``), and
inline event handlers (``onerror=``, ``onclick=``...) are removed. Links to web pages (``<a href="https://...">``)
stay: following one is the reader's choice, not something the page does on its own.
"""

from __future__ import annotations

import html
import re

# A start tag with its attributes (quoted values may hold '>').
_TAG = re.compile(
    r"<([A-Za-z][A-Za-z0-9:-]*)((?:\s+[^\s\"'>/=]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)"
    r"(\s*/?)>",
    re.S,
)
_ATTR = re.compile(r"(\s+)([^\s\"'>/=]+)(?:(\s*=\s*)(\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?", re.S)
_URL_ATTRS = {
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "poster",
    "background",
    "xlink:href",
    "data",
    "cite",
    "longdesc",
    "lowsrc",
    "dynsrc",
    "ping",
    "codebase",
    "archive",
    "manifest",
    "icon",
    "imagesrcset",
}
#: Attributes whose URL the browser fetches by itself (a resource), as opposed to a link the reader follows.
_RESOURCE_ATTRS = _URL_ATTRS - {"href", "cite", "longdesc", "action", "formaction"}
#: Elements that fetch or embed something whatever the attribute: dropped when they point outside the page.
_LOADING_TAGS = {
    "img",
    "script",
    "iframe",
    "frame",
    "embed",
    "object",
    "link",
    "audio",
    "video",
    "source",
    "track",
    "image",
    "use",
    "input",
    "base",
    "meta",
    "portal",
    "applet",
    "frameset",
}
_IMAGE_TAGS = {"img", "source", "picture"}  # where an embedded data:image is only ever drawn, never run
_ACTIVE_SCHEMES = ("javascript:", "vbscript:", "livescript:", "mocha:")
_SAFE_DATA = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp|bmp|svg\+xml)[;,]", re.I)
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|\\\\)", re.I)  # any scheme, or protocol-relative
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\([^)]*\)|\"[^\"]*\"|'[^']*')[^;]*;?", re.I)
_STYLE_BLOCK = re.compile(r"(<style\b[^>]*>)(.*?)(</style\s*>)", re.I | re.S)
_SCRIPT_BLOCK = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
_BLANKS = re.compile(r"[\x00-\x20\x7f]+")


def sanitise_html(page: str) -> tuple[str, list[str]]:
    """``page`` with active URLs, event handlers and external resources removed; and what was removed."""
    removed: list[str] = []
    page = _SCRIPT_BLOCK.sub(lambda m: _script(m, removed), page)
    page = _STYLE_BLOCK.sub(lambda m: m.group(1) + _css(m.group(2), removed) + m.group(3), page)
    page = _TAG.sub(lambda m: _tag(m, removed), page)
    return page, removed


def _script(m: re.Match, removed: list[str]) -> str:
    attrs = dict(_attributes(m.group(1)))
    if "src" in attrs and not _url_allowed("script", "src", attrs["src"]):
        removed.append(f"script {_short(attrs['src'])}")
        return ""
    return m.group(0)


def _css(css: str, removed: list[str]) -> str:
    def url(m: re.Match) -> str:
        value = _normalise(m.group(2))
        if _is_external(value) and not _SAFE_DATA.match(value):
            removed.append(f"css url {_short(m.group(2))}")
            return "url()"
        return m.group(0)

    def imp(m: re.Match) -> str:
        removed.append(f"css {_short(m.group(0))}")
        return ""

    return _CSS_URL.sub(url, _CSS_IMPORT.sub(imp, css))


def _tag(m: re.Match, removed: list[str]) -> str:
    name, attrs, close = m.group(1).lower(), m.group(2), m.group(3)
    if name == "meta" and any(k == "http-equiv" and v.strip().lower() == "refresh" for k, v in _attributes(attrs)):
        removed.append("meta refresh")  # a redirect the page performs on its own
        return ""
    kept = []
    for space, attr, eq, value in _ATTR.findall(attrs):
        key = attr.lower()
        raw = value[1:-1] if value[:1] in "\"'" and len(value) >= 2 else value
        if key.startswith("on"):
            removed.append(f"{name} {key}=")
            continue
        if key == "style" and eq:
            cleaned = _css(html.unescape(raw), removed)
            kept.append(f'{space}{attr}="{html.escape(cleaned, quote=True)}"')
            continue
        if key in _URL_ATTRS and eq and not _url_allowed(name, key, raw):
            removed.append(f"{name} {key}={_short(raw)}")
            continue
        kept.append(space + attr + (eq + value if eq else ""))
    return f"<{m.group(1)}{''.join(kept)}{close}>"


def _url_allowed(tag: str, key: str, raw: str) -> bool:
    """Links may go anywhere but never run code; whatever the browser fetches by itself must be embedded."""
    if key in ("srcset", "imagesrcset"):
        return all(_url_allowed(tag, "src", part.split()[0]) for part in raw.split(",") if part.strip())
    url = _normalise(raw)
    if url.startswith(_ACTIVE_SCHEMES):
        return False
    if url.startswith("data:"):
        return tag in _IMAGE_TAGS and bool(_SAFE_DATA.match(url))
    if key in _RESOURCE_ATTRS or tag in _LOADING_TAGS:
        return not _is_external(url) and not url.startswith("/")
    return True


def _attributes(text: str):
    for _, attr, eq, value in _ATTR.findall(text):
        raw = value[1:-1] if value[:1] in "\"'" and len(value) >= 2 else value
        yield attr.lower(), raw


def _normalise(value: str) -> str:
    """The URL as a browser reads it: entities decoded, blanks and control characters dropped, lower case."""
    return _BLANKS.sub("", html.unescape(html.unescape(value))).lower()


def _is_external(url: str) -> bool:
    return bool(_EXTERNAL.match(url))


def _short(text: str, limit: int = 60) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."

"""The Content-Security-Policy: only this site's scripts, and only the inline scripts the
templates wrote for this response.

Inline scripts are allowed by their SHA-256 rather than a per-response nonce: a hash
names exactly the script the template wrote (data injected into a page cannot carry
it), and, unlike a nonce, it lets the same page be cached and served again. The
templates pass each inline script through `allow()`, which records its hash for the
response being rendered (a context variable set per request by portal/http.py).
"""

import base64
import contextvars
import hashlib
from html.parser import HTMLParser

from markupsafe import Markup

from .config import config

_scripts = contextvars.ContextVar("portal_csp_scripts", default=None)


def short_hash(text):
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def collect():
    """A fresh list for this request's inline script hashes."""
    scripts = []
    _scripts.set(scripts)
    return scripts


def allow(script):
    """Record an inline script's hash for this response; return it unescaped for the page."""
    text = str(script)
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    scripts = _scripts.get()
    if scripts is not None:
        scripts.append(f"'sha256-{digest}'")
    return Markup(text)


class _InlineScripts(HTMLParser):
    """The bodies of a page's executable inline scripts (not src=, not JSON data blocks)."""

    EXECUTABLE = {"", "text/javascript", "application/javascript", "module"}

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.bodies = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._inside = (
            tag == "script"
            and "src" not in attrs
            and (attrs.get("type") or "").lower() in self.EXECUTABLE
        )
        if self._inside:
            self.bodies.append("")

    def handle_endtag(self, tag):
        self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.bodies[-1] += data


def allow_scripts_of(page_html):
    """Allow the inline scripts of a page written elsewhere (the MkDocs handbook), so that
    the portal's policy covers it without 'unsafe-inline'."""
    parser = _InlineScripts()
    parser.feed(page_html)
    for body in parser.bodies:
        allow(body)


def policy(scripts):
    tiles = config().tile_origin
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'" + "".join(" " + s for s in dict.fromkeys(scripts)),
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data:{' ' + tiles if tiles else ''}",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )

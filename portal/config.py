"""Deployment settings, read from the environment once when the server starts.

PORTAL_BASE_URL           the public address, for the catalogue's absolute links
                          (default: taken from each request's Host header)
PORTAL_CONTACT_EMAIL      where "报告数据问题" messages go (default: a clearly fake address)
PORTAL_CONTACT_PHONE      a phone line for the same (default: the 12345 hotline, marked 示例)
PORTAL_TILE_URL           a Leaflet URL template of a tile server (default: none, works offline)
PORTAL_TILE_ATTRIBUTION   attribution and map-review number (审图号) the provider requires
PORTAL_TILE_SUBDOMAINS    e.g. 01234567 for Tianditu's t0..t7 hosts
PORTAL_TILE_MAX_ZOOM      default 18
"""

import os
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlparse

FAKE_EMAIL = "data-feedback@example.invalid"


@dataclass(frozen=True)
class Config:
    base_url: str
    contact_email: str
    contact_phone: str
    contact_is_sample: bool
    tile_url: str
    tile_attribution: str
    tile_subdomains: str
    tile_max_zoom: int

    @property
    def tile_origin(self):
        """scheme://host of the tile server, for the Content-Security-Policy ('' if none)."""
        if not self.tile_url.startswith(("http://", "https://")):
            return ""
        parsed = urlparse(self.tile_url.replace("{s}", "*"))
        return f"{parsed.scheme}://{parsed.netloc}"


@cache
def config():
    email = os.environ.get("PORTAL_CONTACT_EMAIL", "").strip()
    return Config(
        base_url=os.environ.get("PORTAL_BASE_URL", "").rstrip("/"),
        contact_email=email or FAKE_EMAIL,
        contact_phone=os.environ.get("PORTAL_CONTACT_PHONE", "").strip() or "12345",
        contact_is_sample=not email,
        tile_url=os.environ.get("PORTAL_TILE_URL", "").strip(),
        tile_attribution=os.environ.get("PORTAL_TILE_ATTRIBUTION", "").strip(),
        tile_subdomains=os.environ.get("PORTAL_TILE_SUBDOMAINS", "").strip(),
        tile_max_zoom=int(os.environ.get("PORTAL_TILE_MAX_ZOOM") or 18),
    )

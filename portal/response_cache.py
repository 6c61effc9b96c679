"""Whole responses kept in memory, for a server whose data never changes while it runs.

Every page is a function of its URL and the served version (portal/http.py), so a worker
that has rendered a page once can send the same bytes again: the home page or a database
page then costs what a static file costs, with or without nginx in front. Text is also kept
gzip-compressed (compressed once, when first sent), so neither the worker nor nginx, which
caches what the worker sends, compresses a page again for every visitor.

The cache is bounded by bytes (least recently used out first) and keeps only responses
small enough to be worth it, so URLs made up to miss it cost memory no one else needed.
"""

import gzip
from collections import OrderedDict
from dataclasses import dataclass, field

MAX_BYTES = 48 * 1024 * 1024
MAX_ENTRY_BYTES = 1024 * 1024
MIN_COMPRESS_BYTES = 512
CACHEABLE = (200, 404)
COMPRESSIBLE = (
    b"text/",
    b"application/json",
    b"application/ld+json",
    b"application/geo+json",
    b"application/javascript",
    b"image/svg+xml",
)


@dataclass
class Entry:
    status: int
    headers: list
    body: bytes
    gzipped: bytes = None
    cost: int = field(default=0)

    @property
    def compressible(self):
        content_type = dict(self.headers).get(b"content-type", b"")
        encoded = any(k.lower() == b"content-encoding" for k, _ in self.headers)
        return (
            not encoded
            and len(self.body) >= MIN_COMPRESS_BYTES
            and content_type.startswith(COMPRESSIBLE)
        )


def accepts_gzip(scope):
    for name, value in scope.get("headers", []):
        if name == b"accept-encoding" and b"gzip" in value.lower():
            return True
    return False


class ResponseCache:
    def __init__(self, max_bytes=MAX_BYTES, max_entry_bytes=MAX_ENTRY_BYTES):
        self.max_bytes, self.max_entry_bytes = max_bytes, max_entry_bytes
        self.entries = OrderedDict()
        self.size = 0

    def get(self, key):
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key, entry):
        entry.cost = len(entry.body) + len(key) + sum(len(k) + len(v) for k, v in entry.headers)
        if entry.compressible:
            entry.gzipped = gzip.compress(entry.body, compresslevel=6, mtime=0)
            entry.cost += len(entry.gzipped)
        if entry.cost > self.max_entry_bytes:
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= old.cost
        self.entries[key] = entry
        self.size += entry.cost
        while self.size > self.max_bytes:
            _, dropped = self.entries.popitem(last=False)
            self.size -= dropped.cost

    def recording(self, key, scope, send):
        """A `send` that holds a response back until it is complete (up to the entry size),
        keeps it, and sends it as a kept one is sent; a larger one streams through."""
        state = {"start": None, "chunks": [], "size": 0, "passing": False}

        async def record(message):
            if state["passing"]:
                await send(message)
                return
            if message["type"] == "http.response.start":
                state["start"] = message
                if message["status"] not in CACHEABLE:
                    state["passing"] = True
                    await send(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body = message.get("body", b"")
            state["chunks"].append(body)
            state["size"] += len(body)
            if state["size"] > self.max_entry_bytes:
                state["passing"] = True
                await send(state["start"])
                await send({**message, "body": b"".join(state["chunks"])})
                state["chunks"] = []
                return
            if message.get("more_body"):
                return
            start = state["start"]
            entry = Entry(
                start["status"], list(start.get("headers", [])), b"".join(state["chunks"])
            )
            self.put(key, entry)
            if entry.gzipped is None and entry.compressible:
                entry.gzipped = gzip.compress(entry.body, compresslevel=6, mtime=0)
            await replay(entry, scope, send)

        return record


async def replay(entry, scope, send, head=False):
    """Send a kept response, compressed when the client takes gzip and it is worth it."""
    headers, body = entry.headers, entry.body
    if entry.compressible:
        headers = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"vary")]
        headers.append((b"vary", b"Accept-Encoding"))
        if entry.gzipped is not None and accepts_gzip(scope):
            body = entry.gzipped
            headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": entry.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})

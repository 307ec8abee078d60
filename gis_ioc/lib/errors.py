"""Error text that reaches users: library messages (GDAL, pyogrio, rasterio, OSError) quote the server's
paths, which tell an attacker where data lives and tell the user nothing. Users see their file's name."""

from __future__ import annotations

import re
from collections.abc import Mapping

# An absolute POSIX path, GDAL's virtual file systems included (/vsizip//srv/data/x.zip/a.shp), that starts
# a token: not inside a word, a URL (http://host/…) or a relative path (a/b).
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])(?:/vsi\w+/)?/(?:[^\s'\"`<>,;:()\[\]{}]*/)*[^\s'\"`<>,;:()\[\]{}/]*")


def without_paths(text: str, names: Mapping[str, str] | None = None) -> str:
    """The text with every absolute path replaced by its file name, then stored names by display names.

    `names` maps a name the server gave a file (``upload.tif``) to the one the user knows
    (``Độ cao 2024.tif``); a path to a folder shows as its last part.
    """
    names = names or {}

    def shown(match: re.Match[str]) -> str:
        base = match.group(0).rstrip("/").rsplit("/", 1)[-1]
        return base or "…"

    text = _ABSOLUTE_PATH.sub(shown, text)
    for stored, display in names.items():
        if stored and stored != display:
            text = text.replace(stored, display)
    return text

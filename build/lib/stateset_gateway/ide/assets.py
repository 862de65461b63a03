"""The shipped browser files: where they are, their integrity, and the route that serves them.

`static/manifest.json` (written by ide-assets/vendor.py) lists each package's version, folder and
files with their SHA-384. Only files it lists are served, from `/static/NAME@VERSION/FILE`: a
versioned path never changes content, so browsers may keep it for a year.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from stateset_gateway import errors

STATIC_DIR = Path(__file__).parent / "static"
PREFIX = "/static"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Asset:
    url: str
    integrity: str
    path: Path

    def script(self) -> str:
        return f'<script src="{escape(self.url)}" integrity="{self.integrity}" crossorigin="anonymous"></script>'

    def stylesheet(self) -> str:
        return (f'<link rel="stylesheet" href="{escape(self.url)}" integrity="{self.integrity}" '
                'crossorigin="anonymous">')


@cache
def manifest() -> dict[str, dict[str, Asset]]:
    """Package name -> file name -> Asset."""
    raw = json.loads((STATIC_DIR / "manifest.json").read_text(encoding="utf-8"))
    return {
        name: {file: Asset(f"{PREFIX}/{entry['folder']}/{file}", digest, STATIC_DIR / entry["folder"] / file)
               for file, digest in entry["files"].items()}
        for name, entry in raw.items()
    }


def asset(package: str, file: str) -> Asset:
    return manifest()[package][file]


@cache
def _by_url() -> dict[str, Asset]:
    return {a.url: a for files in manifest().values() for a in files.values()}


router = APIRouter(include_in_schema=False)


@router.get(PREFIX + "/{folder}/{file}")
async def static_file(folder: str, file: str) -> FileResponse:
    found = _by_url().get(f"{PREFIX}/{folder}/{file}")
    if found is None:
        raise errors.NotFound(f"No file {PREFIX}/{folder}/{file}")
    media_type = mimetypes.guess_type(file)[0] or "text/plain"
    if media_type.startswith("text/") or media_type.endswith("javascript"):
        media_type += "; charset=utf-8"
    return FileResponse(found.path, media_type=media_type, headers={"Cache-Control": IMMUTABLE})

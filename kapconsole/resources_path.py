"""The one helper that finds shipped resources (fonts, icons, stylesheets)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Return the path of a file shipped in ``resources/`` (e.g. ``resource_path("fonts", "DejaVuSans.ttf")``)."""
    base = resources.files("kapconsole.resources")
    target = base.joinpath(*parts)
    return Path(str(target))

"""The request key a form keeps with what was typed until it is saved.

A save can fail after its commit landed (the connection died before the answer came back). Saving the same
content again sends the same key, so the service returns the entry that exists instead of adding a second one.
Changed content is a new request and gets a new key.
"""

from __future__ import annotations

import uuid
from typing import Any


class DraftKey:
    def __init__(self) -> None:
        self._content: Any = None
        self._key: str | None = None

    def key_for(self, content: Any) -> str:
        """The key for saving ``content``: the same as the last try while the content is unchanged."""
        if self._key is None or content != self._content:
            self._content = content
            self._key = str(uuid.uuid4())
        return self._key

    def saved(self) -> None:
        """The content was saved: the next save is a new request."""
        self._content = None
        self._key = None

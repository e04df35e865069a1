"""Reading a clinical time as staff type it at the bedside.

Empty means now. ``HH:MM`` is the most recent such moment (today, or yesterday for a session that crossed
midnight); ``YYYY-MM-DD HH:MM`` is taken exactly. Times are the workstation's local time. Whether the moment is
allowed (not in the future, not before the session began) is :func:`kapconsole.domain.validation.observed_at`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from kapconsole.domain.errors import ValidationError

FORMAT_HINT = "HH:MM or YYYY-MM-DD HH:MM"
_TIME = re.compile(r"^(\d{1,2})[:.h](\d{2})$")
_FULL = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2})[:.](\d{2})$")


def parse_clinical_time(text: str, *, now: datetime, field: str = "time") -> datetime | None:
    """The local, timezone-aware moment ``text`` names; None for empty text (now)."""
    typed = " ".join(text.split())
    if not typed:
        return None
    local_now = now.astimezone()
    try:
        if m := _TIME.match(typed):
            moment = local_now.replace(hour=int(m[1]), minute=int(m[2]), second=0, microsecond=0)
            if moment > local_now + timedelta(minutes=1):
                moment -= timedelta(days=1)  # "23:50" typed at 00:10 is last night
            return moment
        if m := _FULL.match(typed):
            naive = datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]))
            return naive.astimezone()
    except ValueError:
        pass  # 25:00, 2026-02-30 …: refused below with the text as typed
    raise ValidationError(field, typed, f"a time such as {local_now:%H:%M} or {local_now:%Y-%m-%d %H:%M} "
                                        f"({FORMAT_HINT})")

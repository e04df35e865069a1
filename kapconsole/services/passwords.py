"""Password strength: a well-kept estimator (zxcvbn) that knows common passwords, keyboard patterns, dates,
names and dictionary words, told also the person's own login and name and the product's own words."""

from __future__ import annotations

import re

#: zxcvbn scores 0–4; 3 means "safely unguessable" against online attacks (about 10^8 guesses and more).
MIN_SCORE = 3
#: zxcvbn's matching grows fast with length; a longer password is judged on its first part (it only gets
#: stronger with the rest).
_JUDGED_LENGTH = 64
#: Words anyone guessing a password at this clinic would try first.
PRODUCT_WORDS = ("kapconsole", "kap", "console", "ketamine", "clinic", "demo", "kapdemo", "session", "therapy")


def password_weakness(password: str, *, login: str = "", name: str = "") -> str | None:
    """Why ``password`` is too easy to guess, as one sentence; ``None`` when it is strong enough."""
    from zxcvbn import zxcvbn  # imported on use: the estimator loads its word lists (~0.2 s)

    personal = [w for w in re.split(r"[\s.,_@-]+", f"{login} {name}".casefold()) if len(w) >= 3]
    lowered = password.casefold()
    for word in personal:
        if len(word) >= 4 and word in lowered:
            return f"it contains the person's own name or login ({word!r}); choose words that are not about them"
    result = zxcvbn(password[:_JUDGED_LENGTH], user_inputs=[login, name, *personal, *PRODUCT_WORDS])
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result.get("feedback") or {}
    warning = (feedback.get("warning") or "").rstrip(".")
    reason = warning[0].lower() + warning[1:] if warning else "it is too easy to guess"
    tips = " ".join(t[0].lower() + t[1:] for t in feedback.get("suggestions") or [] if t)
    return f"{reason}; {tips or 'use three or four unrelated words, or a longer password'}".rstrip()

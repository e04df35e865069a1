"""The clinic root key: kept outside the database, in the clinic configuration file of the user's config folder.

Its private half registers the first administrator's signing key (and any key when no administrator signs);
its fingerprint is shown at set-up and printed on every summary, so a reader can tell that the keys behind
a signature go back to this clinic. ``KAPCONSOLE_CLINIC_CONFIG`` names another file (tests, a shared share).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kapconsole.domain import signing
from kapconsole.domain.errors import DomainError

CONFIG_ENV = "KAPCONSOLE_CLINIC_CONFIG"
APP_NAME = "kapconsole"


def config_path() -> Path:
    named = os.environ.get(CONFIG_ENV)
    if named:
        return Path(named)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / "clinic.json"


@dataclass(frozen=True)
class ClinicRoot:
    public_key: str
    private_key: Ed25519PrivateKey | None

    @property
    def fingerprint(self) -> str:
        return signing.fingerprint(self.public_key)


def load_root(path: Path | None = None) -> ClinicRoot | None:
    """The root key of this workstation's clinic configuration (None when there is none)."""
    path = path or config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        public = str(data["root_public_key"])
        private = None
        if data.get("root_private_key"):
            private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(data["root_private_key"]))
            if signing.public_hex(private) != public:
                raise DomainError(f"{path}: the clinic root key's halves do not match")
        return ClinicRoot(public, private)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DomainError(f"{path}: not a readable clinic configuration ({type(exc).__name__})") from None


def ensure_root(path: Path | None = None) -> ClinicRoot:
    """The root key, created (owner-only file, never overwritten) at the clinic's first set-up."""
    path = path or config_path()
    found = load_root(path)
    if found is not None:
        return found
    key = signing.new_private_key()
    public = signing.public_hex(key)
    text = json.dumps({"root_public_key": public, "fingerprint": signing.fingerprint(public),
                       "root_private_key": base64.b64encode(signing.private_raw(key)).decode("ascii")}, indent=2)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        found = load_root(path)  # made by another process a moment ago
        if found is None:
            raise DomainError(f"{path}: the clinic configuration cannot be read") from None
        return found
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return ClinicRoot(public, key)

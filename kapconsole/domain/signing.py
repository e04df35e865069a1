"""Digital signatures: Ed25519 key pairs per member of staff, wrapped by a key derived from their password.

A private key is stored only wrapped: AES-256-GCM under a key derived from the person's password with argon2id
(``hash_secret_raw``), so it can sign only when that person types their password. A signature covers a
canonical JSON statement; whoever can rewrite the database can recompute hashes, but not these signatures.

Public keys are registered by a signed statement: by the clinic root key (kept outside the database, in the
clinic configuration file) or by an administrator's registered key, itself registered back to the root.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from kapconsole.domain.errors import AuthenticationFailed

WRAP_VERSION = 1
#: argon2id for the key-wrapping key: the same cost as the password hash (OWASP minimum, 19 MiB, 2 passes).
KDF_TIME, KDF_MEMORY, KDF_LANES = 2, 19456, 1
#: Which entry fields are the signed statement (everything but the signature itself).
SIGNATURE_FIELD = "sig"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def public_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def fingerprint(public_key_hex: str) -> str:
    """A short, readable fingerprint of a public key: 32 hex digits in groups of four."""
    digest = hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:32]
    return " ".join(digest[i:i + 4] for i in range(0, 32, 4))


def _kek(password: str, salt: bytes) -> bytes:
    return hash_secret_raw(password.encode("utf-8", "surrogatepass"), salt, time_cost=KDF_TIME,
                           memory_cost=KDF_MEMORY, parallelism=KDF_LANES, hash_len=32, type=Type.ID)


def wrap(key: Ed25519PrivateKey, password: str) -> str:
    """The private key wrapped under ``password`` (argon2id → AES-256-GCM), as JSON text."""
    salt, nonce = os.urandom(16), os.urandom(12)
    public = public_hex(key)
    sealed = AESGCM(_kek(password, salt)).encrypt(nonce, private_raw(key), public.encode("ascii"))
    return json.dumps({"v": WRAP_VERSION, "kdf": "argon2id", "t": KDF_TIME, "m": KDF_MEMORY, "p": KDF_LANES,
                       "salt": _b64(salt), "nonce": _b64(nonce), "key": _b64(sealed), "public": public},
                      sort_keys=True)


def unwrap(wrapped: str, password: str) -> Ed25519PrivateKey:
    """The private key, when ``password`` is the one it was wrapped under; else AuthenticationFailed."""
    try:
        data = json.loads(wrapped)
        kek = hash_secret_raw(password.encode("utf-8", "surrogatepass"), _unb64(data["salt"]),
                              time_cost=int(data["t"]), memory_cost=int(data["m"]), parallelism=int(data["p"]),
                              hash_len=32, type=Type.ID)
        raw = AESGCM(kek).decrypt(_unb64(data["nonce"]), _unb64(data["key"]), str(data["public"]).encode("ascii"))
        key = Ed25519PrivateKey.from_private_bytes(raw)
    except (InvalidTag, ValueError, KeyError, TypeError):
        raise AuthenticationFailed("the signing key cannot be opened with this password") from None
    if public_hex(key) != data["public"]:
        raise AuthenticationFailed("the signing key does not match its public key")
    return key


def canonical(statement: Mapping[str, Any]) -> bytes:
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def sign(key: Ed25519PrivateKey, statement: Mapping[str, Any]) -> str:
    return key.sign(canonical(statement)).hex()


def verify(public_key_hex: str, statement: Mapping[str, Any], signature_hex: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(bytes.fromhex(signature_hex),
                                                                                 canonical(statement))
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def signed(key: Ed25519PrivateKey, statement: Mapping[str, Any]) -> dict[str, Any]:
    """``statement`` with the signer's public key added and the signature over both."""
    body = {**statement, "key": public_hex(key)}
    return {**body, SIGNATURE_FIELD: sign(key, body)}


def check_signed(payload: Mapping[str, Any]) -> bool:
    """Whether a payload made by :func:`signed` carries a valid signature by the key it names."""
    sig, key = payload.get(SIGNATURE_FIELD), payload.get("key")
    if not isinstance(sig, str) or not isinstance(key, str):
        return False
    return verify(key, {k: v for k, v in payload.items() if k != SIGNATURE_FIELD}, sig)


def registration(*, staff_id: int, login: str, public_key: str, valid_from: str, registrar: str,
                 purpose: str) -> dict[str, Any]:
    """The statement by which a registrar key vouches that ``public_key`` belongs to ``login``."""
    return {"type": "key_registration", "staff": staff_id, "login": login, "public_key": public_key,
            "valid_from": valid_from, "registrar": registrar, "purpose": purpose}

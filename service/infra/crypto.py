"""Encryption of personal data at rest (AES-256-GCM with key ids) and keyed hashes for lookup.

Ciphertext layout: b"v1" | key_id length (1 byte) | key_id | 12-byte nonce | AES-GCM output.
The key id travels with the ciphertext, so keys can be rotated: the first key of the
keyring encrypts, every key decrypts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["Keyring", "CryptoError", "keyed_hash"]

_MAGIC = b"v1"
_NONCE_BYTES = 12


class CryptoError(ValueError):
    """A key description or ciphertext that cannot be used."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    active_key_id: str

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        """Parse "id1:base64key,id2:base64key" (the first key encrypts)."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            key_id, sep, b64 = item.partition(":")
            if not sep or not key_id or len(key_id.encode()) > 32:
                raise CryptoError("each data key must look like key_id:base64key")
            try:
                key = base64.b64decode(b64, validate=True)
            except ValueError:
                raise CryptoError(f"data key {key_id!r} is not valid base64") from None
            if len(key) != 32:
                raise CryptoError(f"data key {key_id!r} must be 32 bytes (AES-256)")
            keys[key_id] = key
            order.append(key_id)
        if not order:
            raise CryptoError("no data keys configured")
        return cls(keys=keys, active_key_id=order[0])

    def encrypt(self, plaintext: bytes, *, context: bytes = b"") -> bytes:
        """Encrypt; `context` (for example b"video:<attempt id>") is authenticated, not stored."""
        key_id = self.active_key_id.encode()
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active_key_id]).encrypt(nonce, plaintext, context)
        return _MAGIC + bytes([len(key_id)]) + key_id + nonce + sealed

    def decrypt(self, blob: bytes, *, context: bytes = b"") -> bytes:
        if len(blob) < 3 or blob[:2] != _MAGIC:
            raise CryptoError("not a certify ciphertext")
        n = blob[2]
        key_id = blob[3 : 3 + n].decode()
        nonce = blob[3 + n : 3 + n + _NONCE_BYTES]
        try:
            key = self.keys[key_id]
        except KeyError:
            raise CryptoError(f"unknown data key id {key_id!r}") from None
        try:
            return AESGCM(key).decrypt(nonce, blob[3 + n + _NONCE_BYTES :], context)
        except InvalidTag:
            raise CryptoError("ciphertext does not authenticate (wrong key or context)") from None

    @staticmethod
    def key_id_of(blob: bytes) -> str:
        """The id of the key a ciphertext was made with."""
        if len(blob) < 3 or blob[:2] != _MAGIC:
            raise CryptoError("not a certify ciphertext")
        return blob[3 : 3 + blob[2]].decode(errors="replace")

    def rewrap(self, blob: bytes, *, context: bytes = b"") -> bytes | None:
        """The same plaintext under the active key (key rotation); None if it already is."""
        if self.key_id_of(blob) == self.active_key_id:
            return None
        return self.encrypt(self.decrypt(blob, context=context), context=context)

    def encrypt_text(self, text: str, *, context: str = "") -> bytes:
        return self.encrypt(text.encode(), context=context.encode())

    def decrypt_text(self, blob: bytes, *, context: str = "") -> str:
        return self.decrypt(blob, context=context.encode()).decode()


def keyed_hash(secret: str, value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of `value` for equality lookups without storing it in the clear."""
    key = hashlib.sha256(f"{purpose}\x00{secret}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

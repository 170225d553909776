from __future__ import annotations

import base64
import os

import pytest

from service.infra.crypto import CryptoError, Keyring, keyed_hash


def _key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def test_round_trip_with_context_and_rotation():
    old = _key("k1")
    ring1 = Keyring.parse(old)
    sealed = ring1.encrypt(b"embedding bytes", context=b"embedding:1")
    assert b"embedding bytes" not in sealed
    ring2 = Keyring.parse(f"{_key('k2')},{old}")  # new key first, old key still decrypts
    assert ring2.decrypt(sealed, context=b"embedding:1") == b"embedding bytes"
    assert ring2.encrypt(b"x").startswith(b"v1\x02k2")


def test_wrong_context_or_tampering_is_detected():
    ring = Keyring.parse(_key("k1"))
    sealed = bytearray(ring.encrypt(b"secret", context=b"a"))
    with pytest.raises(CryptoError):
        ring.decrypt(bytes(sealed), context=b"b")
    sealed[-1] ^= 1
    with pytest.raises(CryptoError):
        ring.decrypt(bytes(sealed), context=b"a")


def test_unknown_key_and_bad_specs():
    sealed = Keyring.parse(_key("k1")).encrypt(b"x")
    with pytest.raises(CryptoError):
        Keyring.parse(_key("k9")).decrypt(sealed)
    for spec in ["", "nokey", "k1:not-base64!", f"k1:{base64.b64encode(b'short').decode()}"]:
        with pytest.raises(CryptoError):
            Keyring.parse(spec)


def test_keyed_hash_depends_on_secret_and_purpose():
    a = keyed_hash("s1", "110105", purpose="national_id")
    assert a == keyed_hash("s1", "110105", purpose="national_id")
    assert a != keyed_hash("s2", "110105", purpose="national_id")
    assert a != keyed_hash("s1", "110105", purpose="phone")

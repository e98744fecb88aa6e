"""Encryption at rest of patients' personal data, with key rotation.

Inquiries carry health data (GDPR Art. 9, special categories) and logistics bookings name the
traveller, their phone, addresses and medicines, so the fields that hold them are encrypted by the
service before they reach PostgreSQL: a database dump, a backup or a replica
alone does not reveal them. AES-256-GCM is used because it authenticates as well as encrypts: a
changed byte is detected instead of decrypting to plausible garbage.

Every ciphertext is bound to its row and field through the associated data (`aad`), so a
ciphertext copied to another row or field fails to decrypt rather than showing one patient's data
as another's. Callers should build `aad` unambiguously, with a separator that cannot occur in the
parts (e.g. ``b"inquiry:%s:email" % inquiry_id``).

Keys are named. A sealed value records the id of the key that sealed it, so a key ring can hold
the new key (active, used for all new data) next to the old ones (still able to decrypt) while a
background job re-encrypts the rows whose key id `needs_rotation`; then the old key is removed.
Rotation also keeps each key well below the ~2**32 messages that NIST SP 800-38D allows per key
with random 96-bit nonces.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Mapping
from typing import TypeVar

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "DecryptionError",
    "KeyRing",
    "Sealed",
    "from_column",
    "key_ring_setting",
    "to_column",
]

T = TypeVar("T")

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the GCM nonce size that needs no extra hashing step
TAG_BYTES = 16

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_KEY_ID_RULE = "it must be 1 to 32 characters from A-Z, a-z, 0-9, '_' and '-'"
# The url-safe alphabet only: a key pasted in standard base64 ('+', '/') is rejected rather than
# silently decoded, so one spelling of a key is the same key everywhere.
_KEY_TEXT = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_FORMAT = "expected comma-separated 'id:key' entries, each key 32 bytes in base64url"


class DecryptionError(Exception):
    """A sealed value cannot be opened.

    The message names the key id at most: never plaintext, key, associated data or ciphertext,
    because it ends up in logs.
    """


class Sealed(msgspec.Struct, frozen=True):
    """An encrypted value and the id of the key that sealed it.

    `blob` is the 12-byte random nonce followed by ciphertext and 16-byte tag; the nonce travels
    with the ciphertext because it is needed to decrypt and is not secret.
    """

    key_id: str
    blob: bytes


class KeyRing:
    """The named AES-256 keys of a service, one of them active for new data.

    Only the active key encrypts; every key in the ring decrypts, which is what lets data sealed
    under an old key stay readable until it is re-encrypted. The raw key bytes are not kept, and
    `repr` shows only ids, so a key ring logged by accident leaks nothing.
    """

    __slots__ = ("_active", "_ciphers")

    def __init__(self, keys: Mapping[str, bytes], active: str) -> None:
        if not keys:
            raise ValueError(f"no keys given; {_FORMAT}")
        for key_id, key in keys.items():
            if not _KEY_ID.fullmatch(key_id):
                raise ValueError(f"invalid key id: {_KEY_ID_RULE}")
            if len(key) != KEY_BYTES:
                raise ValueError(
                    f"key {key_id!r} is {len(key)} bytes; AES-256 needs exactly {KEY_BYTES}"
                )
        if active not in keys:
            raise ValueError(_not_among(active, keys))
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._active = active

    @classmethod
    def from_setting(cls, value: str, active: str | None = None) -> KeyRing:
        """Parse a setting such as ``"k1:<base64url>,k2:<base64url>"``.

        Whitespace around entries, ids and keys is ignored, and so are empty entries, so the
        value may be wrapped over lines or end with a comma. `active` defaults to the last key
        listed, so rotating is appending a key; an empty `active` counts as unset, like empty
        environment variables elsewhere. Errors say what is wrong and where, never echoing key
        material, nor a text that failed as a key id (it may be a key pasted in the wrong place).
        """
        keys: dict[str, bytes] = {}
        for position, entry in enumerate(value.split(","), start=1):
            if not entry.strip():
                continue
            key_id, colon, key_text = (part.strip() for part in entry.partition(":"))
            if not colon:
                raise ValueError(f"entry {position} has no ':' between key id and key; {_FORMAT}")
            if not _KEY_ID.fullmatch(key_id):
                raise ValueError(f"entry {position} has an invalid key id: {_KEY_ID_RULE}")
            if key_id in keys:
                raise ValueError(f"key id {key_id!r} is listed more than once")
            keys[key_id] = _decode_key(key_id, key_text)
        if not keys:
            raise ValueError(f"no keys given; {_FORMAT}")
        chosen = active.strip() if active is not None else ""
        return cls(keys, chosen or list(keys)[-1])

    @staticmethod
    def generate_setting(key_id: str = "k1") -> str:
        """A setting value holding one fresh random key, for a local stack's first run."""
        if not _KEY_ID.fullmatch(key_id):
            raise ValueError(f"invalid key id: {_KEY_ID_RULE}")
        key = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).rstrip(b"=")
        return f"{key_id}:{key.decode('ascii')}"

    @property
    def active(self) -> str:
        """The id of the key that seals new data."""
        return self._active

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id that can decrypt, in the order given."""
        return tuple(self._ciphers)

    def __repr__(self) -> str:
        return f"KeyRing(active={self._active!r}, key_ids={list(self._ciphers)!r})"

    def encrypt(self, plaintext: bytes, *, aad: bytes) -> Sealed:
        """Seal `plaintext` with the active key, bound to `aad`.

        A fresh random nonce per call means the same plaintext never gives the same ciphertext,
        so equal values (e.g. two patients with one diagnosis) cannot be spotted in the table.
        """
        _require_aad(aad)
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._ciphers[self._active].encrypt(nonce, plaintext, aad)
        return Sealed(key_id=self._active, blob=nonce + ciphertext)

    def decrypt(self, sealed: Sealed, *, aad: bytes) -> bytes:
        """Open `sealed` with the key it names; `aad` must be the one it was sealed with.

        Raises `DecryptionError` when the key is not in the ring, or when the tag does not
        verify: a wrong key, another row's or field's `aad`, or altered bytes all look the same
        to GCM, and telling them apart would need information we do not have.
        """
        _require_aad(aad)
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise DecryptionError(f"key {sealed.key_id!r} is not in the key ring")
        if len(sealed.blob) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError(f"value sealed with key {sealed.key_id!r} is truncated")
        nonce, ciphertext = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
        try:
            return cipher.decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise DecryptionError(
                f"value sealed with key {sealed.key_id!r} failed authentication"
            ) from None

    def encrypt_json(self, value: object, *, aad: bytes) -> Sealed:
        """Seal `value` as msgspec JSON, so Structs and plain data share one encrypted form."""
        return self.encrypt(msgspec.json.encode(value), aad=aad)

    def decrypt_json(self, sealed: Sealed, *, aad: bytes, type: type[T]) -> T:
        """Open a value sealed by `encrypt_json` and decode it as `type`.

        A value that decrypts but does not match `type` raises msgspec's `ValidationError`: the
        data is authentic, so that is a schema mismatch, not a decryption failure.
        """
        return msgspec.json.decode(self.decrypt(sealed, aad=aad), type=type)

    def needs_rotation(self, sealed: Sealed) -> bool:
        """Whether `sealed` was sealed with a key other than the active one."""
        return sealed.key_id != self._active


def key_ring_setting(variable: str, keys: str, active: str) -> KeyRing:
    """The key ring of a service's settings, `keys` read from environment variable `variable`
    and `active` from its companion (empty: the last key listed).

    Errors name `variable`, so every service reports a bad key setting the same way, and each
    service keeps its own variables: one service's key never opens another's data.
    """
    try:
        return KeyRing.from_setting(keys, active or None)
    except ValueError as exc:
        raise ValueError(f"{variable} is invalid: {exc}") from None


def to_column(sealed: Sealed) -> bytes:
    """One bytea value holding key id and blob: length byte, ASCII key id, blob.

    Keeping the key id inside the value means an encrypted field is one column and can never be
    separated from the key that opens it.
    """
    if not _KEY_ID.fullmatch(sealed.key_id):
        raise ValueError(f"invalid key id: {_KEY_ID_RULE}")
    key_id = sealed.key_id.encode("ascii")
    return bytes([len(key_id)]) + key_id + sealed.blob


def from_column(raw: bytes) -> Sealed:
    """Read a value written by `to_column`.

    A malformed value raises `DecryptionError`, as a failed tag does: to the reader of a row
    both mean the field cannot be opened.
    """
    if not raw:
        raise DecryptionError("stored value is empty")
    end = 1 + raw[0]
    key_id = raw[1:end].decode("ascii", errors="replace")
    if len(raw) < end or not _KEY_ID.fullmatch(key_id):
        raise DecryptionError("stored value has no valid key id")
    return Sealed(key_id=key_id, blob=bytes(raw[end:]))


def _decode_key(key_id: str, text: str) -> bytes:
    if not text:
        raise ValueError(f"key {key_id!r} is empty")
    if not _KEY_TEXT.fullmatch(text):
        raise ValueError(f"key {key_id!r} is not base64url (A-Z, a-z, 0-9, '-', '_')")
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        # The decoder's own message is dropped with its chain: it may quote the input.
        raise ValueError(f"key {key_id!r} is not valid base64url") from None
    if len(key) != KEY_BYTES:
        raise ValueError(
            f"key {key_id!r} decodes to {len(key)} bytes; AES-256 needs exactly {KEY_BYTES}"
        )
    return key


def _not_among(active: str, keys: Mapping[str, bytes]) -> str:
    if not _KEY_ID.fullmatch(active):
        return f"the active key id is invalid: {_KEY_ID_RULE}"
    known = ", ".join(repr(key_id) for key_id in keys)
    return f"active key {active!r} is not among the keys ({known})"


def _require_aad(aad: bytes) -> None:
    # Without associated data a ciphertext could be moved to another row or field unnoticed.
    if not aad:
        raise ValueError("aad must not be empty: it binds a ciphertext to its row and field")

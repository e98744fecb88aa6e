"""Patients' personal data is sealed with AES-256-GCM, bound to its row and field, and survives
key rotation; a bad key setting is refused with a message that never shows key material."""

from __future__ import annotations

import base64

import msgspec
import pytest

from services.runtime.privacy.crypto import (
    DecryptionError,
    KeyRing,
    Sealed,
    from_column,
    key_ring_setting,
    to_column,
)

KEY_1 = bytes(range(32))
KEY_2 = bytes(range(100, 132))


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


KEY_1_TEXT = b64url(KEY_1)
KEY_2_TEXT = b64url(KEY_2)
# 0xfb bytes encode to '+' and '/' in standard base64, which the url-safe alphabet spells '-_'.
STANDARD_B64_KEY = base64.standard_b64encode(bytes([0xFB] * 32)).decode("ascii")
SHORT_KEY = b64url(bytes(range(16)))
LONG_KEY = b64url(bytes(range(33)))
SECRETS = (KEY_1_TEXT, KEY_2_TEXT, STANDARD_B64_KEY, SHORT_KEY, LONG_KEY)

PLAINTEXT = b"Maria Muster, born 1961, mitral valve insufficiency"
AAD = b"inquiry:7f3c:medical_history"


class Patient(msgspec.Struct, frozen=True):
    name: str
    birth_year: int
    conditions: list[str]


def ring_k1() -> KeyRing:
    return KeyRing.from_setting(f"k1:{KEY_1_TEXT}")


def ring_k1_k2() -> KeyRing:
    return KeyRing.from_setting(f"k1:{KEY_1_TEXT},k2:{KEY_2_TEXT}")


def assert_no_key_material(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
        assert secret[:12] not in text
    for raw in (KEY_1, KEY_2):
        assert repr(raw) not in text


# Sealing and opening


def test_bytes_round_trip() -> None:
    ring = ring_k1()

    sealed = ring.encrypt(PLAINTEXT, aad=AAD)

    assert sealed.key_id == "k1"
    assert ring.decrypt(sealed, aad=AAD) == PLAINTEXT


def test_empty_plaintext_round_trips() -> None:
    ring = ring_k1()

    assert ring.decrypt(ring.encrypt(b"", aad=AAD), aad=AAD) == b""


def test_blob_is_nonce_then_ciphertext_and_tag() -> None:
    sealed = ring_k1().encrypt(PLAINTEXT, aad=AAD)

    assert len(sealed.blob) == 12 + len(PLAINTEXT) + 16


def test_json_round_trip_of_a_struct() -> None:
    ring = ring_k1()
    patient = Patient(name="Maria Muster", birth_year=1961, conditions=["mitral regurgitation"])

    sealed = ring.encrypt_json(patient, aad=AAD)

    assert ring.decrypt_json(sealed, aad=AAD, type=Patient) == patient


def test_json_round_trip_of_plain_data() -> None:
    ring = ring_k1()
    value = {"phone": "+49 30 1234567", "languages": ["de", "en"]}

    sealed = ring.encrypt_json(value, aad=AAD)

    assert ring.decrypt_json(sealed, aad=AAD, type=dict[str, object]) == value


def test_json_that_decrypts_but_does_not_match_the_type_is_a_validation_error() -> None:
    ring = ring_k1()
    sealed = ring.encrypt_json({"name": "Maria"}, aad=AAD)

    with pytest.raises(msgspec.ValidationError):
        ring.decrypt_json(sealed, aad=AAD, type=Patient)


def test_the_same_plaintext_seals_differently_each_time() -> None:
    ring = ring_k1()

    first = ring.encrypt(PLAINTEXT, aad=AAD)
    second = ring.encrypt(PLAINTEXT, aad=AAD)

    assert first.blob != second.blob
    assert first.blob[:12] != second.blob[:12]


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    ring = ring_k1()

    sealed = ring.encrypt(PLAINTEXT, aad=AAD)

    for column in (sealed.blob, to_column(sealed)):
        assert PLAINTEXT not in column
        assert b"Maria" not in column
        assert b"mitral" not in column


@pytest.mark.parametrize(
    "other_aad",
    [
        b"inquiry:8a01:medical_history",  # the same field of another row
        b"inquiry:7f3c:email",  # another field of the same row
        b"inquiry:7f3c:medical_histor",
    ],
)
def test_wrong_aad_fails(other_aad: bytes) -> None:
    ring = ring_k1()
    sealed = ring.encrypt(PLAINTEXT, aad=AAD)

    with pytest.raises(DecryptionError, match="key 'k1'"):
        ring.decrypt(sealed, aad=other_aad)


def test_empty_aad_is_refused() -> None:
    ring = ring_k1()
    sealed = ring.encrypt(PLAINTEXT, aad=AAD)

    with pytest.raises(ValueError, match="aad must not be empty"):
        ring.encrypt(PLAINTEXT, aad=b"")
    with pytest.raises(ValueError, match="aad must not be empty"):
        ring.decrypt(sealed, aad=b"")


@pytest.mark.parametrize(
    "index", [0, 11, 12, 20, -1], ids=["nonce", "nonce-end", "ct", "ct2", "tag"]
)
def test_tampered_blob_fails(index: int) -> None:
    ring = ring_k1()
    sealed = ring.encrypt(PLAINTEXT, aad=AAD)
    blob = bytearray(sealed.blob)
    blob[index] ^= 0x01

    with pytest.raises(DecryptionError) as caught:
        ring.decrypt(Sealed(key_id="k1", blob=bytes(blob)), aad=AAD)

    assert str(caught.value) == "value sealed with key 'k1' failed authentication"
    assert caught.value.__cause__ is None


@pytest.mark.parametrize("length", [0, 11, 27])
def test_truncated_blob_fails(length: int) -> None:
    ring = ring_k1()
    sealed = ring.encrypt(PLAINTEXT, aad=AAD)

    with pytest.raises(DecryptionError, match="key 'k1'"):
        ring.decrypt(Sealed(key_id="k1", blob=sealed.blob[:length]), aad=AAD)


def test_unknown_key_id_fails_naming_only_the_key_id() -> None:
    ring = ring_k1()
    sealed = ring.encrypt(PLAINTEXT, aad=AAD)

    with pytest.raises(DecryptionError) as caught:
        ring.decrypt(Sealed(key_id="k9", blob=sealed.blob), aad=AAD)

    message = str(caught.value)
    assert message == "key 'k9' is not in the key ring"
    assert AAD.decode() not in message


def test_a_key_with_the_same_id_but_other_bytes_fails() -> None:
    sealed = ring_k1().encrypt(PLAINTEXT, aad=AAD)
    impostor = KeyRing({"k1": KEY_2}, "k1")

    with pytest.raises(DecryptionError, match="failed authentication"):
        impostor.decrypt(sealed, aad=AAD)


# Rotation


def test_rotation_keeps_old_data_readable_and_seals_new_data_with_the_new_key() -> None:
    old = ring_k1().encrypt(PLAINTEXT, aad=AAD)
    ring = ring_k1_k2()

    assert ring.active == "k2"
    assert ring.decrypt(old, aad=AAD) == PLAINTEXT
    new = ring.encrypt(PLAINTEXT, aad=AAD)
    assert new.key_id == "k2"
    assert ring.needs_rotation(old)
    assert not ring.needs_rotation(new)


def test_resealed_data_survives_removal_of_the_old_key() -> None:
    old = ring_k1().encrypt(PLAINTEXT, aad=AAD)
    ring = ring_k1_k2()
    resealed = ring.encrypt(ring.decrypt(old, aad=AAD), aad=AAD)
    only_k2 = KeyRing.from_setting(f"k2:{KEY_2_TEXT}")

    assert only_k2.decrypt(resealed, aad=AAD) == PLAINTEXT
    with pytest.raises(DecryptionError, match="key 'k1' is not in the key ring"):
        only_k2.decrypt(old, aad=AAD)


def test_an_explicit_active_key_overrides_the_last_one() -> None:
    ring = KeyRing.from_setting(f"k1:{KEY_1_TEXT},k2:{KEY_2_TEXT}", active="k1")

    assert ring.active == "k1"
    assert ring.encrypt(PLAINTEXT, aad=AAD).key_id == "k1"


@pytest.mark.parametrize("active", [None, "", "  "])
def test_unset_or_empty_active_means_the_last_key_listed(active: str | None) -> None:
    ring = KeyRing.from_setting(f"k2:{KEY_2_TEXT},k1:{KEY_1_TEXT}", active=active)

    assert ring.active == "k1"
    assert ring.key_ids == ("k2", "k1")


# Storage form


def test_column_round_trip() -> None:
    ring = ring_k1_k2()
    sealed = ring.encrypt(PLAINTEXT, aad=AAD)

    raw = to_column(sealed)

    assert raw[0] == 2
    assert raw[1:3] == b"k2"
    assert raw[3:] == sealed.blob
    assert from_column(raw) == sealed
    assert ring.decrypt(from_column(raw), aad=AAD) == PLAINTEXT


def test_column_round_trip_with_the_longest_key_id() -> None:
    key_id = "k" * 32
    sealed = KeyRing({key_id: KEY_1}, key_id).encrypt(PLAINTEXT, aad=AAD)

    assert from_column(to_column(sealed)) == sealed


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00abc", b"\x05k1", b"\x02\xff\xfeblob", b"\x02k!blob"],
    ids=["empty", "no-id", "short", "not-ascii", "bad-id"],
)
def test_malformed_column_fails(raw: bytes) -> None:
    with pytest.raises(DecryptionError, match="stored value"):
        from_column(raw)


def test_to_column_refuses_an_invalid_key_id() -> None:
    with pytest.raises(ValueError, match="invalid key id"):
        to_column(Sealed(key_id="ключ", blob=b"x" * 28))


# Settings


def test_setting_is_whitespace_tolerant() -> None:
    ring = KeyRing.from_setting(f"\n  k1 : {KEY_1_TEXT} ,\n  k2:{KEY_2_TEXT}  ,\n")

    assert ring.key_ids == ("k1", "k2")
    assert ring.active == "k2"
    assert ring.decrypt(ring_k1().encrypt(PLAINTEXT, aad=AAD), aad=AAD) == PLAINTEXT


def test_padded_base64url_keys_are_accepted() -> None:
    padded = base64.urlsafe_b64encode(KEY_1).decode("ascii")
    assert padded.endswith("=")

    ring = KeyRing.from_setting(f"k1:{padded}")

    assert ring.decrypt(ring_k1().encrypt(PLAINTEXT, aad=AAD), aad=AAD) == PLAINTEXT


@pytest.mark.parametrize(
    ("value", "active", "message"),
    [
        ("", None, "no keys given"),
        ("  ,\n , ", None, "no keys given"),
        (KEY_1_TEXT, None, "entry 1 has no ':' between key id and key"),
        (f"k1:{KEY_1_TEXT},{KEY_2_TEXT}", None, "entry 2 has no ':'"),
        (f"bad id!:{KEY_1_TEXT}", None, "entry 1 has an invalid key id"),
        (f":{KEY_1_TEXT}", None, "entry 1 has an invalid key id"),
        (f"{'k' * 33}:{KEY_1_TEXT}", None, "entry 1 has an invalid key id"),
        (f"{KEY_1_TEXT}:k1", None, "entry 1 has an invalid key id"),  # key and id swapped
        (f"k1:{KEY_1_TEXT},k1:{KEY_2_TEXT}", None, "key id 'k1' is listed more than once"),
        ("k1:", None, "key 'k1' is empty"),
        (f"k1:{STANDARD_B64_KEY}", None, "key 'k1' is not base64url"),
        (f"k1:{KEY_1_TEXT}:{KEY_2_TEXT}", None, "key 'k1' is not base64url"),
        ("k1:abcde", None, "key 'k1' is not valid base64url"),
        (f"k1:{SHORT_KEY}", None, "key 'k1' decodes to 16 bytes; AES-256 needs exactly 32"),
        (f"k1:{LONG_KEY}", None, "key 'k1' decodes to 33 bytes; AES-256 needs exactly 32"),
        (f"k1:{KEY_1_TEXT},k2:{KEY_2_TEXT}", "k9", "active key 'k9' is not among the keys"),
        (f"k1:{KEY_1_TEXT}", KEY_2_TEXT, "the active key id is invalid"),
    ],
    ids=[
        "empty",
        "only-commas",
        "no-colon",
        "no-colon-second",
        "bad-id",
        "empty-id",
        "long-id",
        "swapped",
        "duplicate",
        "empty-key",
        "standard-base64",
        "extra-colon",
        "bad-base64-length",
        "short-key",
        "long-key",
        "unknown-active",
        "key-as-active",
    ],
)
def test_malformed_setting_is_refused_without_showing_key_material(
    value: str, active: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        KeyRing.from_setting(value, active)

    assert_no_key_material(str(caught.value))
    assert caught.value.__cause__ is None


def test_unknown_active_lists_the_known_ids() -> None:
    with pytest.raises(ValueError, match="not among the keys") as caught:
        KeyRing.from_setting(f"k1:{KEY_1_TEXT},k2:{KEY_2_TEXT}", "k9")

    assert str(caught.value) == "active key 'k9' is not among the keys ('k1', 'k2')"


@pytest.mark.parametrize(
    ("keys", "active", "message"),
    [
        ({}, "k1", "no keys given"),
        ({"k1": KEY_1[:16]}, "k1", "key 'k1' is 16 bytes; AES-256 needs exactly 32"),
        ({"k 1": KEY_1}, "k 1", "invalid key id"),
        ({"k1": KEY_1}, "k2", "active key 'k2' is not among the keys"),
    ],
)
def test_constructor_validates_too(keys: dict[str, bytes], active: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        KeyRing(keys, active)

    assert_no_key_material(str(caught.value))


def test_repr_shows_ids_but_no_key_material() -> None:
    ring = ring_k1_k2()

    for text in (repr(ring), str(ring), f"{ring!r}"):
        assert text == "KeyRing(active='k2', key_ids=['k1', 'k2'])"
        assert_no_key_material(text)


def test_key_ring_keeps_no_raw_key_bytes_in_attributes() -> None:
    ring = ring_k1()

    assert not hasattr(ring, "__dict__")
    attributes = [repr(getattr(ring, name)) for name in ring.__slots__]
    for text in attributes:
        assert_no_key_material(text)


def test_generated_setting_parses_into_a_working_key_ring() -> None:
    setting = KeyRing.generate_setting()

    ring = KeyRing.from_setting(setting)

    assert ring.key_ids == ("k1",)
    assert ring.decrypt(ring.encrypt(PLAINTEXT, aad=AAD), aad=AAD) == PLAINTEXT


def test_generated_settings_are_random_and_take_a_key_id() -> None:
    first = KeyRing.generate_setting("local")
    second = KeyRing.generate_setting("local")

    assert first != second
    assert first.startswith("local:")
    assert KeyRing.from_setting(f"{first},k2:{KEY_2_TEXT}").key_ids == ("local", "k2")


def test_generate_setting_refuses_an_invalid_key_id() -> None:
    with pytest.raises(ValueError, match="invalid key id"):
        KeyRing.generate_setting("no spaces")


def test_a_service_key_setting_gives_its_ring_with_the_named_or_last_key_active() -> None:
    setting = f"k1:{KEY_1_TEXT},k2:{KEY_2_TEXT}"

    assert key_ring_setting("SOME_ENCRYPTION_KEYS", setting, "").active == "k2"
    assert key_ring_setting("SOME_ENCRYPTION_KEYS", setting, "k1").active == "k1"


@pytest.mark.parametrize(
    ("keys", "active"),
    [("", ""), (f"k1:{SHORT_KEY}", ""), (f"k1:{KEY_1_TEXT}", "k9"), (KEY_1_TEXT, "")],
)
def test_a_bad_service_key_setting_names_its_variable_and_shows_no_key(
    keys: str, active: str
) -> None:
    with pytest.raises(ValueError, match=r"^SOME_ENCRYPTION_KEYS is invalid: ") as raised:
        key_ring_setting("SOME_ENCRYPTION_KEYS", keys, active)

    assert_no_key_material(str(raised.value))

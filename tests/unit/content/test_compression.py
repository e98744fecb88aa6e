"""Content codings: Accept-Encoding read with its q-values, and every compressed variant of an
answer decoding to the identity bytes under its own strong ETag."""

from __future__ import annotations

import gzip

import brotli
import pytest
import zstandard

from services.content.compression import MIN_SIZE, ON_THE_FLY, accepted
from services.content.representation import represent

DECODERS = {
    "br": brotli.decompress,
    "zstd": lambda body: zstandard.ZstdDecompressor().decompress(body),
    "gzip": gzip.decompress,
    "identity": lambda body: body,
}
PAGE = b'{"title": "Mitral valve insufficiency", "body": "' + b"Blood leaks back. " * 400 + b'"}'


@pytest.mark.parametrize(
    ("header", "codings"),
    [
        (None, ("identity",)),
        (b"", ("identity",)),
        (b"gzip, deflate, br, zstd", ("br", "zstd", "gzip", "identity")),
        (b"gzip;q=0.5, br;q=0.1", ("gzip", "br", "identity")),
        (b"gzip;q=1.0, identity; q=0.5, *;q=0", ("gzip", "identity")),
        (b"br;q=0, *", ("zstd", "gzip", "identity")),
        (b"x-gzip", ("gzip", "identity")),
        (b"GZIP;Q=0.3", ("gzip", "identity")),
        (b"gzip;q=0.3, identity", ("identity", "gzip")),
        (b"identity;q=0, gzip", ("gzip",)),
        (b"identity;q=0", ()),
        (b"*;q=0", ()),
        (b"*;q=0, identity", ("identity",)),
        (b"gzip;q=2, br;q=abc", ("identity",)),
    ],
)
def test_accept_encoding_is_read_with_its_q_values(
    header: bytes | None, codings: tuple[str, ...]
) -> None:
    assert accepted(header) == codings


@pytest.mark.parametrize(
    ("header", "codings"),
    [
        # Equal q-values: the cheapest to make first, for an answer made for one reader.
        (b"gzip, deflate, br, zstd", ("zstd", "br", "gzip", "identity")),
        # The reader's q-values still come first.
        (b"br, zstd;q=0.5", ("br", "zstd", "identity")),
        (b"gzip, br", ("br", "gzip", "identity")),
        (b"identity;q=0", ()),
    ],
)
def test_an_answer_made_for_one_reader_prefers_the_cheapest_coding_among_equals(
    header: bytes, codings: tuple[str, ...]
) -> None:
    assert accepted(header, ON_THE_FLY) == codings


def test_every_coding_decodes_to_the_identity_bytes_under_its_own_strong_etag() -> None:
    entry = represent(PAGE, media_type="application/json", cache_control="c", vary="v")

    assert set(entry.variants) == set(DECODERS)
    for coding, variant in entry.variants.items():
        assert DECODERS[coding](variant.body) == PAGE
        headers = dict(variant.headers)
        assert headers.get("Content-Encoding") == (None if coding == "identity" else coding)
        assert headers["ETag"] == variant.etag
        assert len(variant.body) <= len(PAGE)
    identity_tag = entry.variants["identity"].etag
    assert entry.variants["br"].etag == identity_tag[:-1] + '-br"'
    assert len(entry.etags) == 4
    assert len(entry.variants["br"].body) * 4 < len(PAGE)


def test_a_revalidation_with_the_tag_of_any_coding_is_fresh() -> None:
    entry = represent(PAGE, media_type="application/json", cache_control="c", vary="v")

    for variant in entry.variants.values():
        assert entry.fresh(variant.etag)
        assert entry.fresh(f'"other", W/{variant.etag}')
    assert entry.fresh("*")
    assert not entry.fresh('"other"')
    assert not entry.fresh(None)


def test_a_small_answer_is_sent_as_it_is() -> None:
    entry = represent(
        b"{}" * (MIN_SIZE // 4), media_type="application/json", cache_control="c", vary="v"
    )

    assert set(entry.variants) == {"identity"}
    assert entry.choose(accepted(b"br")) is entry.variants["identity"]
    assert entry.choose(accepted(b"identity;q=0, br")) is None

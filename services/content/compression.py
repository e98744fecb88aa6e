"""Content codings of delivery answers: which ones a reader accepts (`Accept-Encoding` with its
q-values, RFC 9110 section 12.5.3) and the bytes in each. A cached answer is compressed once, when
it is cached, so a cached read only picks the bytes it sends."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from functools import lru_cache

import brotli
import zstandard

IDENTITY = "identity"
# Our preference among codings the reader accepts equally: the fewest bytes first (brotli's
# dictionary suits text and JSON), identity last.
CODINGS = ("br", "zstd", "gzip")
PREFERENCE = (*CODINGS, IDENTITY)
# For an answer compressed for one reader and not kept (a sync page of a full pass, megabytes):
# the cheapest to make first. zstd made a 6 MB page in a quarter of brotli's time here, a few
# percent larger.
ON_THE_FLY = ("zstd", "br", "gzip", IDENTITY)
# Below this, framing and the reader's decoding cost more than the bytes saved.
MIN_SIZE = 1024
# Levels for an answer compressed on a cache miss: a 30 kB page takes a few milliseconds in each,
# within 1 % of the size the slowest levels reach for JSON (brotli 9 to 11 take tens).
_BROTLI_QUALITY = 5
_ZSTD = zstandard.ZstdCompressor(level=9)
_GZIP_LEVEL = 6
COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "br": lambda body: brotli.compress(body, quality=_BROTLI_QUALITY),
    "zstd": _ZSTD.compress,
    # mtime=0: the same bytes every time, so the ETag of the gzip answer stays strong.
    "gzip": lambda body: gzip.compress(body, compresslevel=_GZIP_LEVEL, mtime=0),
}
_ALIASES = {"x-gzip": "gzip"}
# Below the smallest q-value a reader can write (0.001).
_UNNAMED_IDENTITY = 0.0001
# Longer header values are parsed each time rather than cached: a client sending odd, long
# values must not fill the parse cache.
_CACHED_HEADER = 256


def accepted(
    accept_encoding: bytes | None, preference: tuple[str, ...] = PREFERENCE
) -> tuple[str, ...]:
    """The codings we have that the reader accepts, best first: by the reader's q-values, then
    by `preference` (`ON_THE_FLY` for an answer made for this reader alone). Empty when none
    is acceptable, identity included (`identity;q=0` or `*;q=0` alone): such a request gets a
    406."""
    if accept_encoding is None:
        # No header: any coding is acceptable, but a client that says nothing may decode
        # nothing (RFC 9110 section 12.5.3); identity is the safe answer.
        return (IDENTITY,)
    if len(accept_encoding) > _CACHED_HEADER:
        return _parse(accept_encoding, preference)
    return _parse_cached(accept_encoding, preference)


def _parse(header: bytes, preference: tuple[str, ...] = PREFERENCE) -> tuple[str, ...]:
    weights: dict[str, float] = {}
    wildcard: float | None = None
    for item in header.decode("latin-1").split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = _quality(params)
        if q is None:
            continue  # a malformed weight: the item says nothing we can trust
        if name == "*":
            wildcard = q
        else:
            weights[_ALIASES.get(name, name)] = q
    ranked = []
    for rank, coding in enumerate(preference):
        q = weights.get(coding, wildcard)
        if q is None:
            # Not named and no wildcard: identity stays acceptable (RFC 9110 section 12.5.3),
            # after every coding the reader named; the others are not acceptable.
            q = _UNNAMED_IDENTITY if coding == IDENTITY else 0.0
        if q > 0:
            ranked.append((-q, rank, coding))
    return tuple(coding for _, _, coding in sorted(ranked))


_parse_cached = lru_cache(maxsize=512)(_parse)


def _quality(params: str) -> float | None:
    """The item's q-value (1 when absent), or None when it is not a valid one (0 to 1)."""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return None
            return q if 0.0 <= q <= 1.0 else None
    return 1.0

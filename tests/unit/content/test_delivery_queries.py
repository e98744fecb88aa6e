"""The public read rules moved out of the HTTP handlers: field selection, list cursors and sync
tokens. Each bad parameter is a 400 naming the parameter. No database."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest

from services.content.domain.editorial import Published
from services.content.usecases.delivery import (
    FIELDS,
    INCLUDES,
    SyncFrom,
    after_cursor,
    cursor_after,
    decode_sync_token,
    encode_position,
    encode_sync_token,
    pick,
    select,
)
from services.runtime.core.errors import BadRequest
from services.runtime.http.cursors import encode_cursor

UPDATED = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
DOCUMENT_ID = uuid.UUID(int=42)
LAST = Published(
    document_id=DOCUMENT_ID,
    kind="condition",
    slug="angina",
    revision=1,
    rendered={},
    locales=["en"],
    updated_at=UPDATED,
)


def field_of(refusal: pytest.ExceptionInfo[BadRequest]) -> list[str]:
    return [p.field for p in refusal.value.problems]


def test_selected_fields_keep_what_names_the_document() -> None:
    names = select("title, icd10", FIELDS["condition"], "fields")
    item = {"kind": "condition", "slug": "angina", "title": "Angina", "summary": "…", "icd10": []}

    assert names == ["title", "icd10"]
    assert pick(item, names) == {
        "kind": "condition",
        "slug": "angina",
        "title": "Angina",
        "icd10": [],
    }
    assert pick(item, []) == item


def test_an_unknown_field_is_a_400_naming_the_parameter_and_what_it_allows() -> None:
    with pytest.raises(BadRequest) as refused:
        select("title,colour", FIELDS["service"], "fields")

    assert field_of(refused) == ["fields"]
    assert "unknown colour; allowed:" in refused.value.problems[0].message


def test_a_service_embeds_nothing() -> None:
    with pytest.raises(BadRequest) as refused:
        select("related_treatments", set(INCLUDES["service"]), "include")

    assert field_of(refused) == ["include"]


@pytest.mark.parametrize("sort", ["slug", "-slug", "updated_at", "-updated_at"])
def test_a_cursor_gives_back_the_sort_key_it_was_issued_after(sort: str) -> None:
    key = "angina" if sort.lstrip("-") == "slug" else UPDATED

    assert after_cursor(cursor_after(LAST, sort), sort) == (key, DOCUMENT_ID)  # type: ignore[arg-type]


def test_a_cursor_of_another_sort_order_is_refused() -> None:
    cursor = cursor_after(LAST, "slug")

    with pytest.raises(BadRequest) as refused:
        after_cursor(cursor, "-updated_at")

    assert field_of(refused) == ["cursor"]
    assert refused.value.problems[0].message == "was issued for sort=slug"


@pytest.mark.parametrize(
    ("cursor", "sort"),
    [
        ("garbage!", "slug"),
        (encode_cursor("slug", 1), "slug"),
        (encode_cursor("updated_at", "yesterday", DOCUMENT_ID), "updated_at"),
    ],
)
def test_a_bad_cursor_is_a_400_naming_cursor(cursor: str, sort: str) -> None:
    with pytest.raises(BadRequest) as refused:
        after_cursor(cursor, sort)

    assert field_of(refused) == ["cursor"]
    assert refused.value.problems[0].message == "is not a cursor this API issued"


def test_a_sync_token_gives_back_its_snapshot() -> None:
    assert decode_sync_token(encode_sync_token("17:20:17,19")) == SyncFrom(seen="17:20:17,19")
    assert decode_sync_token(encode_sync_token("5:5:")) == SyncFrom(seen="5:5:")


@pytest.mark.parametrize(
    "position",
    [
        SyncFrom(upto="17:20:17,19", after=uuid.UUID(int=7)),  # in a full pass
        SyncFrom(seen="5:5:", upto="9:12:10", after=uuid.UUID(int=8)),  # in a paged delta
        SyncFrom(seq=42, upto="9:9:", after=uuid.UUID(int=9)),  # a delta from an old token
    ],
)
def test_the_token_of_a_page_with_more_to_come_gives_back_where_the_pass_stands(
    position: SyncFrom,
) -> None:
    assert decode_sync_token(encode_position(position)) == position


def test_a_token_issued_while_tokens_were_horizons_reads_as_a_snapshot_at_it() -> None:
    horizon = base64.urlsafe_b64encode(b"xid:40").decode().rstrip("=")
    assert decode_sync_token(horizon) == SyncFrom(seen="40:40:")


def test_a_token_issued_before_sync_went_by_transaction_still_names_its_seq() -> None:
    legacy = base64.urlsafe_b64encode(b"sync:42").decode().rstrip("=")
    assert decode_sync_token(legacy) == SyncFrom(seq=42)


def _snap(text: str) -> str:
    return base64.urlsafe_b64encode(f"snap:{text}".encode()).decode().rstrip("=")


def _page(text: str) -> str:
    return base64.urlsafe_b64encode(f"page:{text}".encode()).decode().rstrip("=")


_AFTER = str(uuid.UUID(int=1))


@pytest.mark.parametrize(
    "token",
    [
        "bogus",
        encode_cursor("sync", 3),
        "c3luYzp4",
        # Snapshots PostgreSQL would refuse: a 400 here, never a 500 from the database.
        _snap("20:17:"),  # xmax below xmin
        _snap("0:5:"),  # xmin 0
        _snap("17:20:21"),  # in progress past xmax
        _snap("17:20:19,18"),  # not ascending
        _snap("17:20:16"),  # below xmin
        _snap("17:20:x"),
        _snap("99999999999999999999:99999999999999999999:"),
        _snap("1:" + "9" * 19 + ":"),  # past int8
        # A page token that is not one: no target, no place, both kinds of start, bad parts.
        _page("{}"),
        _page("[1]"),
        _page("not json"),
        _page(f'{{"after":"{_AFTER}"}}'),
        _page('{"upto":"9:9:"}'),
        _page(f'{{"seen":"5:5:","seq":3,"upto":"9:9:","after":"{_AFTER}"}}'),
        _page(f'{{"seq":-1,"upto":"9:9:","after":"{_AFTER}"}}'),
        _page(f'{{"upto":"20:17:","after":"{_AFTER}"}}'),
        _page(f'{{"seen":"0:5:","upto":"9:9:","after":"{_AFTER}"}}'),
        _page('{"upto":"9:9:","after":"not-a-uuid"}'),
        _page(f'{{"upto":9,"after":"{_AFTER}"}}'),
    ],
)
def test_a_token_this_api_did_not_issue_is_a_400_naming_token(token: str) -> None:
    with pytest.raises(BadRequest) as refused:
        decode_sync_token(token)

    assert field_of(refused) == ["token"]

"""The export's binder settles, once, what its answer depends on: the format (the `format`
parameter, else Accept) and whether one page or every row is asked for."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.errors import BindError
from gateway.legacy import export
from gateway.legacy.export_formats.negotiation import FORMAT_MESSAGE
from gateway.params import Params
from heypeers.meetings.v1 import meetings_service_pb2 as pb


def _bind(accept: str | None = None, **values: str) -> export.BoundExport:
    params = Params()
    params.extend(values.items())
    headers = CIMultiDictProxy(CIMultiDict({"accept": accept} if accept is not None else {}))
    return export.bind(pb.ExportMeetingsRequest(), params, headers)


def test_the_format_parameter_wins_over_accept_and_accept_is_read_case_insensitively() -> None:
    assert _bind("text/csv", format="NDJSON").export_format.name == "ndjson"
    assert _bind("text/csv").export_format.name == "csv"
    assert _bind().export_format.name == "json"
    assert _bind("image/png").export_format.name == "json"


def test_a_page_or_a_page_size_makes_a_paginated_export_and_neither_streams_it() -> None:
    assert _bind(page="2").paginated
    assert _bind(per_page="10").paginated
    assert _bind(page="0").paginated  # named, even when clamped later
    assert not _bind(page=" ").paginated
    assert not _bind().paginated
    bound = _bind(page="2", per_page="10")
    assert (bound.request.page, bound.request.page_size) == (2, 10)


def test_a_bad_format_is_refused_while_binding_after_the_other_parameters() -> None:
    with pytest.raises(BindError) as refused:
        _bind(format="xml")
    assert refused.value.description == FORMAT_MESSAGE
    # The parameters bound before it are checked first, as they always were.
    with pytest.raises(BindError) as first:
        _bind(format="xml", page="x")
    assert first.value.description == "Parameter page must be an integer"

"""The gateway's rendering of a feed page: kept by the page's bytes, equal to shaping it."""

from __future__ import annotations

import orjson

from gateway.legacy.upcoming import render, shape
from heypeers.meetings.v1 import meetings_service_pb2 as pb


def page(*names: str) -> pb.ListUpcomingMeetingsResponse:
    return pb.ListUpcomingMeetingsResponse(
        current_page=1,
        items=20,
        total_items=len(names),
        total_pages=1,
        meetings=[pb.UpcomingMeeting(id=index, name=name) for index, name in enumerate(names, 1)],
    )


def test_a_page_renders_as_its_shape_encoded() -> None:
    response = page("Morning Circle", "Evening Circle")
    assert render(response) == orjson.dumps(shape(response))


def test_pages_that_differ_in_any_field_render_apart() -> None:
    first = render(page("Morning Circle"))
    assert render(page("Morning Circle")) == first
    assert orjson.loads(render(page("Evening Circle")))["meetings"][0]["name"] == "Evening Circle"
    unset = page("Morning Circle")
    unset.meetings[0].ClearField("name")
    assert orjson.loads(render(unset))["meetings"][0]["name"] is None
    assert orjson.loads(render(page("Morning Circle")))["meetings"][0]["name"] == "Morning Circle"

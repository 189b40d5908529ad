"""The REST requests of `make contract-check`: authentication, the feed, the export (pages of
every preset, formats, compression, errors, streamed exports, a walk of every page) and the
gateway's own pages. Each is sent as written to the base and to this checkout's gateway."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from bench.contract_calls import Rest

_LOGGER = logging.getLogger(__name__)

COLUMNS = (
    "name", "meeting_type", "start_time", "duration", "status", "topic", "special_focus", "host",
    "location", "price", "max_attendees", "meeting_description", "group_leader_id", "privacy",
    "eap", "allow_meeting_donation", "invitation_only", "wait_list",
)  # fmt: skip
PRESETS = (
    "all", "all_past", "all_upcoming", "today", "current_month", "last_week", "last_month",
    "custom",
)  # fmt: skip
LEGACY_TIME = "%m/%d/%Y %I:%M %p"
JSON_BODY = (("Content-Type", "application/json"),)
FORM_BODY = (("Content-Type", "application/x-www-form-urlencoded"),)
Pairs = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Facts:
    """What the requests are built from: the demo organization, a token, and what was found
    on this checkout's service (a series, the default export's pages, the pages' assets)."""

    organization_id: int
    other_organization_id: int
    access_key: str
    token: str
    start: datetime  # the custom range, in the organization's time zone
    end: datetime
    series_id: int | None = None
    walk_pages: int = 0
    assets: tuple[str, ...] = ()

    @property
    def range_pairs(self) -> list[tuple[str, str]]:
        return [
            ("start_time", self.start.strftime(LEGACY_TIME)),
            ("end_time", self.end.strftime(LEGACY_TIME)),
        ]

    def path(self, name: str, organization_id: int | None = None) -> str:
        org = self.organization_id if organization_id is None else organization_id
        return f"/api/v2/organizations/{org}/{name}"

    def get(self, name: str, pairs: Pairs, *headers: tuple[str, str], token: bool = True) -> Rest:
        """An authorized GET of one of the organization's endpoints."""
        auth = (("Authorization", f"Bearer {self.token}"),) if token else ()
        return Rest("GET", self.path(name) + query(pairs), (*auth, *headers))


def query(pairs: Pairs) -> str:
    return "?" + urlencode(list(pairs), safe="[]") if pairs else ""


def columns(names: Sequence[str] = COLUMNS) -> list[tuple[str, str]]:
    return [("column[]", name) for name in names]


def preset_pairs(facts: Facts, preset: str) -> list[tuple[str, str]]:
    pairs = [("reporting_days", preset)]
    return pairs + facts.range_pairs if preset == "custom" else pairs


def authentication(facts: Facts) -> list[Rest]:
    def post(body: bytes, headers: tuple[tuple[str, str], ...] = JSON_BODY) -> Rest:
        return Rest("POST", "/api/v2/authenticate", headers, body)

    return [
        post(json.dumps({"access_key": facts.access_key}).encode()),
        post(json.dumps({"access_key": "X" * 24}).encode()),
        post(b"{}"),
        post(b"not json"),
        post(urlencode({"access_key": facts.access_key}).encode(), FORM_BODY),
        Rest("GET", "/api/v2/authenticate"),
    ]


def feed(facts: Facts) -> list[Rest]:
    name = "upcoming_meetings"
    variants: list[list[tuple[str, str]]] = [
        [],
        [("items", "1")],
        [("items", "5")],
        [("page", "2"), ("items", "20")],
        [("page", "3"), ("items", "7")],
        [("items", "100")],
        [("page", "100000")],
        [("page", "abc")],
        [("items", "x")],
        [("items", "0")],
        [("items", "1000")],
        [("page", "0")],
        [("page", "-3"), ("items", "4")],
        [("meeting_series_id", "abc")],
        [("meeting_series_id", "")],
        [("meeting_series_id", "999999")],
    ]
    if facts.series_id is not None:
        series = ("meeting_series_id", str(facts.series_id))
        variants += [[series], [series, ("items", "3"), ("page", "2")]]
    calls = [facts.get(name, pairs) for pairs in variants]
    bare = Rest("GET", facts.path(name), (("Authorization", facts.token),))
    other = Rest(
        "GET",
        facts.path(name, facts.other_organization_id),
        (("Authorization", f"Bearer {facts.token}"),),
    )
    return [*calls, bare, other, facts.get(name, [], token=False)]


# The demo's members (store.demo): one who signed up, and an id no member has.
DEMO_MEMBER, NO_MEMBER = "auth0|demo-member-001", "auth0|nobody"


def member_feed(facts: Facts) -> list[Rest]:
    """A member's upcoming meetings: pages, a page past the end, an unknown member, bad paging."""
    name = f"members/{quote(DEMO_MEMBER, safe='')}/upcoming_meetings"
    variants: list[list[tuple[str, str]]] = [
        [],
        [("items", "3"), ("page", "2")],
        [("page", "100000")],
        [("items", "x")],
    ]
    calls = [facts.get(name, pairs) for pairs in variants]
    unknown = facts.get(f"members/{quote(NO_MEMBER, safe='')}/upcoming_meetings", [])
    return [*calls, unknown, facts.get(name, [], token=False)]


def export_pages(facts: Facts) -> list[Rest]:
    """A page of every preset, with and without report_type=eap_meetings, then the pages'
    edges, the columns' rules and the POST forms."""
    name = "export_meetings"
    calls = []
    for preset in PRESETS:
        for report in ([], [("report_type", "eap_meetings")]):
            pairs = preset_pairs(facts, preset) + report
            calls.append(facts.get(name, columns() + pairs + [("page", "1"), ("per_page", "25")]))
    edges: list[list[tuple[str, str]]] = [
        [("page", "100000"), ("per_page", "100")],
        [("page", "7"), ("per_page", "1")],
        [("page", "2"), ("per_page", "100")],
        [("page", "1"), ("per_page", "0")],
        [("page", "0"), ("per_page", "500")],
        [("per_page", "10")],
        [("reporting_days", ""), ("page", "2")],
        [("reporting_days", "all_upcoming"), ("page", "1"), *facts.range_pairs],
        [("start_time", facts.range_pairs[0][1]), ("page", "1")],
    ]
    calls += [facts.get(name, columns() + pairs) for pairs in edges]
    mixed = ("price", "name", "bogus", "name", "start_time", "group_leader_id", "eap", "price")
    calls += [
        facts.get(name, [*columns(mixed), ("page", "1"), ("per_page", "5")]),
        facts.get(name, [("column", c) for c in mixed] + [("page", "2"), ("per_page", "5")]),
        facts.get(name, [*columns(("bogus", "group_leader")), ("page", "1")]),
        facts.get(name, columns(("bogus",))),
        facts.get(name, [("page", "1"), ("per_page", "5")]),
    ]
    return calls + export_posts(facts)


def export_posts(facts: Facts) -> list[Rest]:
    auth = (("Authorization", f"Bearer {facts.token}"),)
    path = facts.path("export_meetings")
    document = {
        "column": ["start_time", "name", "price", "duration"],
        "reporting_days": "custom",
        "start_time": facts.range_pairs[0][1],
        "end_time": facts.range_pairs[1][1],
        "page": 2,
        "per_page": "10",
    }
    form = columns(("name", "status", "host")) + preset_pairs(facts, "all_past")
    return [
        Rest("POST", path, (*auth, *JSON_BODY), json.dumps(document).encode()),
        Rest("POST", path, (*auth, *JSON_BODY), json.dumps({**document, "page": "x"}).encode()),
        Rest("POST", path, (*auth, *FORM_BODY), urlencode([*form, ("page", "3")]).encode()),
        Rest("POST", path, (*auth, *JSON_BODY), b'{"column": '),
    ]


def export_formats(facts: Facts) -> list[Rest]:
    """CSV and NDJSON by parameter and by Accept, and gzip, paged and whole."""
    name = "export_meetings"
    page = [*columns(), ("page", "2"), ("per_page", "20")]
    gzip = ("Accept-Encoding", "gzip")
    return [
        facts.get(name, [*page, ("format", "csv")]),
        facts.get(name, [*page, ("format", "ndjson")]),
        facts.get(name, [*page, ("format", "JSON")]),
        facts.get(name, page, ("Accept", "text/csv")),
        facts.get(name, page, ("Accept", "application/x-ndjson")),
        facts.get(name, page, ("Accept", "application/ndjson")),
        facts.get(name, page, ("Accept", "text/csv;q=0.5, application/x-ndjson")),
        facts.get(name, [*page, ("format", "csv")], ("Accept", "application/x-ndjson")),
        facts.get(name, page, gzip),
        facts.get(name, [*page, ("format", "csv")], gzip),
        facts.get(name, columns() + preset_pairs(facts, "all_upcoming"), gzip),
        facts.get(name, [*columns(), ("format", "ndjson")], gzip, ("Accept", "text/csv")),
    ]


def export_errors(facts: Facts) -> list[Rest]:
    name = "export_meetings"
    start, end = facts.range_pairs
    bad: list[list[tuple[str, str]]] = [
        [("reporting_days", "yesterday")],
        [("reporting_days", "custom"), start],
        [("reporting_days", "custom"), start, ("end_time", "2026-01-31")],
        [("reporting_days", "custom"), start, ("end_time", "02/30/2026 10:00 AM")],
        [("reporting_days", "custom"), ("start_time", "13/45/2026 10:00 AM"), end],
        [("page", "abc")],
        [("per_page", "1.5")],
        [("report_type", "bogus")],
        [("format", "xml")],
    ]
    calls = [facts.get(name, columns(("name",)) + pairs) for pairs in bad]
    other = facts.path(name, facts.other_organization_id)
    auth = (("Authorization", f"Bearer {facts.token}"),)
    return [
        *calls,
        facts.get(name, columns(("name",)), token=False),
        Rest("GET", facts.path(name), (("Authorization", "Bearer not.a.token"),)),
        Rest("GET", other + query(columns(("name",))), auth),
        Rest("GET", facts.path(name, 999999) + query(columns(("name",))), auth),
        Rest("GET", "/api/v2/organizations/abc/export_meetings", auth),
    ]


def export_streams(facts: Facts) -> list[Rest]:
    """Unpaginated (streamed) exports of all, all_upcoming and custom, in every format."""
    calls = []
    for preset in ("all", "all_upcoming", "custom"):
        for form in ("json", "csv", "ndjson"):
            pairs = columns() + preset_pairs(facts, preset) + [("format", form)]
            calls.append(facts.get("export_meetings", pairs))
    return calls


def export_walk(facts: Facts) -> list[Rest]:
    """Every page of the default export (reporting_days omitted), 100 a page."""
    return [
        facts.get("export_meetings", [*columns(), ("page", str(n)), ("per_page", "100")])
        for n in range(1, facts.walk_pages + 1)
    ]


def gateway_pages(facts: Facts) -> list[Rest]:
    """The gateway's own pages, health, the OpenAPI document and the assets the pages link."""
    paths = ["/", "/healthz", "/readyz", "/openapi.json", "/docs", "/export", "/no-such-page"]
    calls = [Rest("GET", path) for path in paths]
    calls += [
        Rest("GET", "/", (("Accept", "text/html"),)),
        Rest("HEAD", "/healthz"),
        Rest("DELETE", "/api/v2/authenticate"),
    ]
    return calls + [Rest("GET", path) for path in facts.assets]


def rest_calls(facts: Facts) -> list[Rest]:
    return [
        *authentication(facts),
        *feed(facts),
        *member_feed(facts),
        *export_pages(facts),
        *export_formats(facts),
        *export_errors(facts),
        *export_streams(facts),
        *export_walk(facts),
        *gateway_pages(facts),
    ]

"""Whose meetings an export holds: the organization's, plus its HPC organization's when it runs
an EAP, merged in one start-time order; report_type=eap_meetings keeps the EAP-flagged ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from tests.export.conftest import document, meeting, organization, rest_headers

EAP, HPC, OTHER, PLAIN = 5, 6, 7, 8
KEYS = {
    EAP: "EapOrganizationKey000005",
    HPC: "HpcOrganizationKey000006",
    OTHER: "OtherOrganizationKey0007",
    PLAIN: "PlainOrganizationKey0008",
}
ORGANIZATIONS = [
    organization(HPC, key=KEYS[HPC]),
    organization(EAP, key=KEYS[EAP], eap=True, hpc=HPC),
    organization(OTHER, key=KEYS[OTHER]),
    # Names an HPC organization but runs no EAP: it sees only its own meetings.
    organization(PLAIN, key=KEYS[PLAIN], eap=False, hpc=HPC),
]
MEETINGS = [
    meeting(1, "2026-04-01T10:00:00+00:00", org_id=EAP),
    meeting(2, "2026-04-01T09:00:00+00:00", org_id=HPC, eap=True),
    meeting(3, "2026-04-02T10:00:00+00:00", org_id=EAP, eap=True),
    meeting(4, "2026-04-01T10:00:00+00:00", org_id=HPC),  # ties with 1: id decides
    meeting(5, "2026-04-01T08:00:00+00:00", org_id=OTHER, eap=True),
    meeting(6, "2026-04-03T10:00:00+00:00", org_id=PLAIN),
    meeting(7, "2026-04-04T10:00:00+00:00", org_id=HPC, eap=True),
]


@pytest.fixture
def loaded(load: Callable[[dict[str, Any]], None]) -> None:
    load(document(MEETINGS, organizations=ORGANIZATIONS))


async def exported(gateway: Any, org_id: int, **params: str) -> list[int]:
    headers = await rest_headers(gateway, KEYS[org_id])
    query = [("column[]", "name"), *params.items()]
    response = await gateway.get(
        f"/api/v2/organizations/{org_id}/export_meetings", params=query, headers=headers
    )
    assert response.status == 200, await response.text()
    rows = orjson.loads(await response.read())["meetings"]
    return [int(row["name"].removeprefix("Meeting ")) for row in rows]


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("paginated", [{}, {"page": "1"}])
@pytest.mark.parametrize(
    ("org_id", "report_type", "expected"),
    [
        (EAP, "all_meetings", [2, 1, 4, 3, 7]),
        (EAP, "eap_meetings", [2, 3, 7]),
        (HPC, "all_meetings", [2, 4, 7]),
        (HPC, "eap_meetings", [2, 7]),
        (OTHER, "all_meetings", [5]),
        (PLAIN, "all_meetings", [6]),
        (PLAIN, "eap_meetings", []),
    ],
)
async def test_scope_and_report_type(
    gateway: Any, org_id: int, report_type: str, expected: list[int], paginated: dict[str, str]
) -> None:
    assert await exported(gateway, org_id, report_type=report_type, **paginated) == expected


@pytest.mark.usefixtures("loaded")
async def test_another_organizations_export_is_not_authorized(gateway: Any) -> None:
    headers = await rest_headers(gateway, KEYS[EAP])
    response = await gateway.get(
        f"/api/v2/organizations/{HPC}/export_meetings", params={"column[]": "name"}, headers=headers
    )
    assert response.status == 401
    assert await response.json() == {"error": "Not Authorized"}

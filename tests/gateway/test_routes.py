from __future__ import annotations

from gateway.routes import service_routes


def test_routes_come_from_the_http_annotations_with_additional_bindings() -> None:
    found = {(r.http_method, r.template, r.rpc_name) for r in service_routes()}
    assert found == {
        ("POST", "/api/v2/authenticate", "Authenticate"),
        ("GET", "/api/v2/organizations/{organization_id}/export_meetings", "ExportMeetings"),
        ("POST", "/api/v2/organizations/{organization_id}/export_meetings", "ExportMeetings"),
        (
            "GET",
            "/api/v2/organizations/{organization_id}/upcoming_meetings",
            "ListUpcomingMeetings",
        ),
        (
            "GET",
            "/api/v2/organizations/{organization_id}/members/{idp_id}/upcoming_meetings",
            "ListMemberUpcomingMeetings",
        ),
    }


def test_path_variables_name_request_fields() -> None:
    for route in service_routes():
        for name in route.path_fields:
            assert name in route.rpc.input_type.fields_by_name

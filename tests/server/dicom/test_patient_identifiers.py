"""Patient identifiers through the API: hidden from members unless an admin shows them."""

from typing import Any

import pydicom

from tests.server.clients import Api, Clients
from tests.server.dicom.files import dicom_bytes, dicom_path

PROJECT = "phi"


async def _project(admin: Api) -> str:
    """Makes the project with one CT slice; returns the slice's media path."""
    await admin.post(
        "/api/projects",
        {
            "project_id": PROJECT,
            "name": "CT with identifiers",
            "project_type": "bounding_boxes",
            "tags": [{"name": "lesion", "colour": "#ff0000"}],
        },
        201,
    )
    for user, role in {"padmin": "admin", "ann": "labeler", "audrey": "auditor"}.items():
        await admin.post(f"/api/projects/{PROJECT}/members", {"user": user, "role": role})
    answer = await admin.post(
        f"/api/projects/{PROJECT}/items",
        files={"files": ("ct.dcm", dicom_bytes("CT_small.dcm"), "application/dicom")},
        status=201,
    )
    assert answer["imported"] == 1, answer
    items = await admin.get(f"/api/projects/{PROJECT}/items")
    (entry,) = items["items"]
    assert entry["item"]["kind"] == "dicom"
    return f"/api/projects/{PROJECT}/items/{entry['item']['item_id']}/media"


async def _patient(api: Api, media: str) -> dict[str, Any]:
    patient: dict[str, Any] = (await api.get(media, params={"view": "metadata"}))["patient"]
    return patient


async def test_members_see_identifiers_only_once_an_admin_shows_them(clients: Clients) -> None:
    admin, padmin, ann, audrey = (
        clients("admin"),
        clients("padmin"),
        clients("ann"),
        clients("audrey"),
    )
    media = await _project(admin)
    truth = pydicom.dcmread(dicom_path("CT_small.dcm"))
    assert (await admin.get(f"/api/projects/{PROJECT}"))["patient_identifiers_shown"] is False
    for api in (admin, padmin):
        assert (await _patient(api, media))["patient_name"] == str(truth.PatientName)
        original = await api.request("GET", media, params={"view": "original"})
        assert original.status_code == 200
        assert original.content == dicom_bytes("CT_small.dcm")
    for api in (ann, audrey):
        assert set((await _patient(api, media)).values()) == {""}
        refused = await api.request("GET", media, params={"view": "original"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["field"] == "view"
        # The pixels stay theirs to label.
        png = await api.request("GET", media, params={"view": "png"})
        assert png.status_code == 200
        assert png.content.startswith(b"\x89PNG")

    shown = await padmin.call(
        "PUT", f"/api/projects/{PROJECT}/patient-identifiers", json={"shown": True}
    )
    assert shown == {"patient_identifiers_shown": True}
    assert (await ann.get(f"/api/projects/{PROJECT}"))["patient_identifiers_shown"] is True
    for api in (ann, audrey):
        patient = await _patient(api, media)
        assert patient["patient_name"] == str(truth.PatientName)
        assert patient["patient_id"] == truth.PatientID
        original = await api.request("GET", media, params={"view": "original"})
        assert original.status_code == 200

    # A copy cached while they were shown is not revalidated once they are hidden again.
    cached = await ann.request("GET", media, params={"view": "metadata"})
    await admin.call("PUT", f"/api/projects/{PROJECT}/patient-identifiers", json={"shown": False})
    again = await ann.request(
        "GET", media, params={"view": "metadata"}, headers={"if-none-match": cached.headers["etag"]}
    )
    assert again.status_code == 200
    assert set(again.json()["patient"].values()) == {""}

    # Only a project admin decides, the body is checked, and a repeat records nothing.
    refused = await ann.request(
        "PUT", f"/api/projects/{PROJECT}/patient-identifiers", json={"shown": True}
    )
    assert refused.status_code == 403, refused.text
    for body, field in (({"shown": "yes"}, "shown"), ({}, "shown"), ({"shown": True, "x": 1}, "x")):
        bad = await admin.request("PUT", f"/api/projects/{PROJECT}/patient-identifiers", json=body)
        assert bad.status_code in (400, 422), bad.text
        assert field in bad.json()["error"]["message"] + bad.json()["error"].get("field", "")
    before = await admin.last_seq()
    await admin.call("PUT", f"/api/projects/{PROJECT}/patient-identifiers", json={"shown": False})
    assert await admin.last_seq() == before

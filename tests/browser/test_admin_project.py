"""The admin's project screen: exports in every fitting format, label imports, and showing
DICOM patient identifiers to members — each used from the browser as an admin would."""

import json
import uuid
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from server.demo.data import dicom_files
from tests.browser.conftest import Api, make_project, open_labeling, png, sign_in, stage_ready

pytestmark = pytest.mark.browser


def _boxes_project(admin_api: Api) -> tuple[str, int]:
    """Three images, two of them labeled by ann; and the seq just before the labels."""
    files = [(f"img{i}.png", png(120, 80, seed=i)) for i in range(3)]
    project = make_project(admin_api, "bounding_boxes", ["cat", "dog"], files)
    items = admin_api.get(f"/api/projects/{project}/items")["items"]
    by_name = {entry["item"]["name"]: entry["item"]["item_id"] for entry in items}
    # Two images labeled through the API as ann would, one left unlabeled.
    unlabeled = admin_api.get(f"/api/projects/{project}/export/formats")["seq"]
    ann = Api(str(admin_api.client.base_url), "ann")
    try:
        page = ann.post(f"/api/projects/{project}/page", {"page_size": 3})
        assert sorted(page["items"]) == sorted(by_name.values())
        for name, box in (("img0.png", (10, 10, 30, 20)), ("img1.png", (50, 20, 40, 40))):
            event = {
                "type": "annotation.box_drawn",
                "region_id": "r1",
                "tag": "cat",
                **dict(zip("xywh", box, strict=True)),
            }
            ann.post(
                f"/api/projects/{project}/items/{by_name[name]}/events",
                {"events": [{"event_id": uuid.uuid4().hex, "event": event}]},
            )
        ann.post(
            f"/api/projects/{project}/submit", {"items": [by_name["img0.png"], by_name["img1.png"]]}
        )
    finally:
        ann.close()
    return project, unlabeled


def test_admin_exports_in_a_chosen_format_and_as_of_a_seq(page: Page, admin_api: Api) -> None:
    project, unlabeled = _boxes_project(admin_api)
    now = admin_api.get(f"/api/projects/{project}/export/formats")["seq"]
    sign_in(page, "admin", f"#/admin/p/{project}")
    card = page.locator(".card", has=page.get_by_role("heading", name="Export labels"))
    expect(card).to_be_visible()
    offered = card.get_by_label("Export format").locator("option")
    values = offered.evaluate_all("options => options.map(o => o.value)")
    fitting = admin_api.get(f"/api/projects/{project}/export/formats")["formats"]
    assert values == [f["name"] for f in fitting]
    assert "coco" in values

    card.get_by_label("Export format").select_option("coco")
    with page.expect_download() as started:
        card.get_by_role("button", name="Download").click()
    download = started.value
    assert download.suggested_filename == f"{project}-coco-seq{now}.json"
    coco = json.loads(Path(download.path()).read_text())
    boxes = sorted(a["bbox"] for a in coco["annotations"])
    assert boxes == [[10, 10, 30, 20], [50, 20, 40, 40]]
    assert [c["name"] for c in coco["categories"]] == ["cat", "dog"]
    expect(card.get_by_role("status")).to_contain_text(f"as of seq {now}")

    # YOLO is a zip; an export as of the seq before the labels holds none.
    card.get_by_label("Export format").select_option("yolo")
    card.get_by_label("As of seq or time").fill(str(unlabeled))
    with page.expect_download() as started:
        card.get_by_role("button", name="Download").click()
    with zipfile.ZipFile(BytesIO(Path(started.value.path()).read_bytes())) as archive:
        labels = [n for n in archive.namelist() if n.startswith("labels/")]
        assert all(not archive.read(n).strip() for n in labels)
    assert started.value.suggested_filename == f"{project}-yolo-seq{unlabeled}.zip"

    # A bad "as of" is said on the screen; nothing is downloaded.
    card.get_by_label("As of seq or time").fill("yesterday-ish")
    card.get_by_role("button", name="Download").click()
    expect(card.locator(".error")).to_contain_text("as_of")


def test_admin_imports_a_label_file_and_sees_the_report(
    page: Page, admin_api: Api, tmp_path: Path
) -> None:
    project, _ = _boxes_project(admin_api)
    coco = admin_api.client.get(f"/api/projects/{project}/export?format=coco").json()
    # The third image gets a dog; one annotation names an image that does not exist.
    third = next(i for i in coco["images"] if i["file_name"] == "img2.png")
    coco["annotations"] = [
        {"id": 1, "image_id": third["id"], "category_id": 2, "bbox": [5, 5, 20, 20]},
        {"id": 2, "image_id": 999, "category_id": 1, "bbox": [1, 1, 2, 2]},
    ]
    label_file = tmp_path / "more.json"
    label_file.write_text(json.dumps(coco))

    sign_in(page, "admin", f"#/admin/p/{project}")
    card = page.locator(".card", has=page.get_by_role("heading", name="Import labels"))
    card.get_by_label("Label file format").select_option("coco")
    card.get_by_label("Label file", exact=True).set_input_files(label_file)
    card.get_by_role("button", name="Import labels").click()
    report = card.get_by_role("status")
    expect(report).to_contain_text("1 imported")
    expect(report.locator(".error")).to_contain_text("annotations[1]")

    submits = admin_api.log(project, kind="queue.page_submitted", actor="import")
    assert len(submits) == 1
    drawn = admin_api.log(project, kind="annotation.box_drawn", actor="import")
    assert [(e["event"]["tag"], e["event"]["w"]) for e in drawn] == [("dog", 20)]


def test_members_see_the_patient_only_once_the_admin_shows_it(
    page: Page, browser: Browser, base_url: str, admin_api: Api
) -> None:
    ct = [(name, data) for name, data in dicom_files() if name == "CT_small.dcm"]
    project = make_project(admin_api, "bounding_boxes", ["lesion"], ct, page_size=1)
    open_labeling(page, "ann", project)
    stage_ready(page)
    expect(page.get_by_label("Patient")).to_have_count(0)

    # The admin works in a browser context of their own, as on another machine.
    context = browser.new_context(base_url=base_url)
    admin = context.new_page()
    try:
        sign_in(admin, "admin", f"#/admin/p/{project}")
        box = admin.get_by_label("Show DICOM patient identifiers")
        expect(box).not_to_be_checked()
        box.check()
        expect(admin.get_by_text("Members now see patient identifiers.")).to_be_visible()
    finally:
        context.close()
    assert admin_api.get(f"/api/projects/{project}")["patient_identifiers_shown"] is True

    page.reload()
    stage_ready(page)
    expect(page.get_by_label("Patient")).to_contain_text("CompressedSamples^CT1")

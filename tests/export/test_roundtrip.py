"""Every format round-trips: export → import into a fresh project → export gives the same
labels, with Unicode text and odd file names intact; a re-import writes nothing."""

import pytest

from tests.export.conftest import Harness
from tests.export.normalize import normalized
from tests.export.scenarios import SCENARIOS, build, item_ids

CASES = [(name, fmt) for name, scenario in SCENARIOS.items() for fmt in scenario.formats]
_built: dict[str, str] = {}


def source_project(harness: Harness, name: str) -> str:
    """The scenario's labeled project, built once per session for all its formats."""
    if name not in _built:
        _built[name] = build(harness, SCENARIOS[name])[0]
    return _built[name]


@pytest.mark.parametrize(("scenario", "fmt"), CASES, ids=[f"{s}-{f}" for s, f in CASES])
def test_export_import_export_gives_the_same_labels(
    harness: Harness, scenario: str, fmt: str
) -> None:
    source = source_project(harness, scenario)
    first = harness.export(source, fmt)
    labels = SCENARIOS[scenario].labels
    assert normalized(fmt, first), "the export holds nothing"

    fresh = harness.project(SCENARIOS[scenario].project_type)
    item_ids(harness, fresh, SCENARIOS[scenario])
    report = harness.import_labels(fresh, fmt, first, name=f"labels.{fmt}")
    assert report["errors"] == []
    # COCO has no way to say "labeled, with no regions"; every other format does.
    assert report["imported"] == report["records"] > 0
    assert report["records"] <= len(labels)
    second = harness.export(fresh, fmt)
    assert normalized(fmt, second) == normalized(fmt, first)

    # The history names the import actor and its session for every label it made.
    state = harness.get(f"/api/projects/{fresh}/state").json()
    assert all(who == ["import"] for who in state["submitted"].values())

    # Importing the same file again writes nothing.
    before = harness.log_length()
    again = harness.import_labels(fresh, fmt, first, name=f"labels.{fmt}")
    assert again["unchanged"] == report["imported"]
    assert again["imported"] == 0
    assert harness.log_length() == before

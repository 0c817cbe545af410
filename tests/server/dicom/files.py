"""Find DICOM test files on disk only, failing fast instead of letting pydicom download them.

pydicom's get_testdata_file(s) fall back to the network for names not installed, which offline
means a long wait and then None. Here we look in pydicom's bundled test files and in every
installed external source (the pydicom-data package), and nowhere else.
"""

from functools import cache
from importlib.metadata import entry_points
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from pydicom import dcmread, dcmwrite
from pydicom.dataset import Dataset


@cache
def _directories() -> tuple[Path, ...]:
    found = [Path(pydicom.__file__).parent / "data" / "test_files"]
    for entry in entry_points(group="pydicom.data.external_sources"):
        found.append(Path(entry.load()().data_path))
    return tuple(found)


def dicom_path(name: str) -> Path:
    """Return the installed test file called `name`, or fail the test at once."""
    for directory in _directories():
        if (directory / name).is_file():
            return directory / name
    looked = ", ".join(map(str, _directories()))
    pytest.fail(
        f"DICOM test file {name} is not installed (looked in {looked}); "
        "install the test extras: pip install pydicom-data",
        pytrace=False,
    )


def dicom_bytes(name: str) -> bytes:
    return dicom_path(name).read_bytes()


def dataset(name: str) -> Dataset:
    """Return a fresh pydicom Dataset of a test file, to compare with or to alter."""
    return dcmread(dicom_path(name))


def to_bytes(ds: Dataset) -> bytes:
    """Return `ds` written as a DICOM Part 10 file."""
    out = BytesIO()
    dcmwrite(out, ds, enforce_file_format=True)
    return out.getvalue()

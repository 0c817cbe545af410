"""What ingest records: the issue's attributes, Enhanced functional groups, PHI kept apart."""

import msgspec
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from server.dicom import (
    PHI_FIELDS,
    PHI_KEYWORDS,
    DicomMetadata,
    PatientIdentifiers,
    Window,
    read_dicom,
    without_phi,
)
from tests.server.dicom.files import dataset, dicom_bytes, to_bytes
from tests.server.dicom.reference import pydicom_grey


def test_ct_slice_records_what_display_and_export_need() -> None:
    meta = read_dicom(dicom_bytes("693_UNCI.dcm")).metadata
    ds = dataset("693_UNCI.dcm")
    assert meta.sop_instance_uid == ds.SOPInstanceUID
    assert meta.study_instance_uid == ds.StudyInstanceUID
    assert meta.series_instance_uid == ds.SeriesInstanceUID
    assert (meta.modality, meta.rows, meta.columns, meta.frames) == ("CT", 512, 512, 1)
    assert meta.photometric_interpretation == "MONOCHROME2"
    assert (meta.bits_allocated, meta.bits_stored, meta.pixel_representation) == (16, 14, 1)
    assert meta.pixel_padding_value == -2000
    assert meta.transfer_syntax == "Explicit VR Little Endian"
    transform = meta.transform
    assert (transform.rescale_slope, transform.rescale_intercept) == (1.0, -1024.0)
    assert transform.windows == (Window(center=40, width=100, function="LINEAR"),)
    assert transform.voi_lut_function == ""
    assert meta.frame_transforms == ()


def test_window_values_explanations_and_function_are_kept() -> None:
    ds = dataset("MR_small.dcm")
    ds.WindowCenter = [600, 300]
    ds.WindowWidth = [1600, 200]
    ds.WindowCenterWidthExplanation = ["WIDE", "NARROW"]
    ds.VOILUTFunction = "SIGMOID"
    transform = read_dicom(to_bytes(ds)).metadata.transform
    assert transform.voi_lut_function == "SIGMOID"
    assert transform.windows == (
        Window(center=600, width=1600, function="SIGMOID", explanation="WIDE"),
        Window(center=300, width=200, function="SIGMOID", explanation="NARROW"),
    )


def test_unknown_voi_function_and_bad_width_become_notes() -> None:
    ds = dataset("MR_small.dcm")
    ds.WindowCenter = [600, 300]
    ds.WindowWidth = [0.5, 200]
    ds.VOILUTFunction = "CUBIC"
    meta = read_dicom(to_bytes(ds)).metadata
    assert meta.transform.windows == (Window(center=300, width=200, function="LINEAR"),)
    assert any("CUBIC" in note for note in meta.notes)
    assert any("invalid" in note for note in meta.notes)


def test_ten_frame_mr_counts_its_frames() -> None:
    image = read_dicom(dicom_bytes("emri_small.dcm"))
    ds = dataset("emri_small.dcm")
    assert image.metadata.frames == 10
    for frame in range(10):
        assert (image.stored(frame) == ds.pixel_array[frame]).all()
    with pytest.raises(IndexError, match="frame 10"):
        image.stored(10)


def test_monochrome1_cr() -> None:
    meta = read_dicom(dicom_bytes("RG1_UNCI.dcm")).metadata
    assert (meta.modality, meta.photometric_interpretation) == ("CR", "MONOCHROME1")
    assert meta.is_inverted


def test_enhanced_ct_takes_values_from_the_shared_functional_groups() -> None:
    meta = read_dicom(dicom_bytes("eCT_Supplemental.dcm")).metadata
    assert meta.frames == 2
    assert (meta.transform.rescale_slope, meta.transform.rescale_intercept) == (1.0, -1024.0)
    assert meta.transform.rescale_type == "US"
    assert meta.transform.windows == (Window(center=49, width=102),)
    assert meta.frame_transforms == ()
    assert meta.frame_transform(1) == meta.transform


def _frame_voi(center: float, width: float, intercept: float) -> Dataset:
    voi, rescale, group = Dataset(), Dataset(), Dataset()
    voi.WindowCenter, voi.WindowWidth = center, width
    voi.WindowCenterWidthExplanation = "PER FRAME"
    rescale.RescaleSlope, rescale.RescaleIntercept, rescale.RescaleType = 1, intercept, "HU"
    group.FrameVOILUTSequence = Sequence([voi])
    group.PixelValueTransformationSequence = Sequence([rescale])
    return group


def test_enhanced_ct_per_frame_groups_override_the_shared_ones() -> None:
    ds = dataset("eCT_Supplemental.dcm")
    per_frame = ds.PerFrameFunctionalGroupsSequence[1]
    overrides = _frame_voi(300, 800, -1000)
    per_frame.FrameVOILUTSequence = overrides.FrameVOILUTSequence
    per_frame.PixelValueTransformationSequence = overrides.PixelValueTransformationSequence
    image = read_dicom(to_bytes(ds))
    first, second = image.metadata.frame_transforms
    assert first == image.metadata.transform
    assert second.windows == (Window(center=300, width=800, explanation="PER FRAME"),)
    assert (second.rescale_intercept, second.rescale_type) == (-1000.0, "HU")
    # pydicom ignores functional groups: hand it frame 1's values at the top level.
    flat = dataset("eCT_Supplemental.dcm")
    flat.RescaleSlope, flat.RescaleIntercept = 1, -1000
    flat.WindowCenter, flat.WindowWidth = 300, 800
    assert (image.render(1) == pydicom_grey(flat, image.stored(1))).all()
    flat.RescaleIntercept, flat.WindowCenter, flat.WindowWidth = -1024, 49, 102
    assert (image.render(0) == pydicom_grey(flat, image.stored(0))).all()


def test_patient_identifiers_are_kept_apart() -> None:
    meta = read_dicom(dicom_bytes("MR_small.dcm")).metadata
    ds = dataset("MR_small.dcm")
    assert meta.patient.patient_name == str(ds.PatientName)
    assert meta.patient.patient_id == ds.PatientID
    assert set(PHI_FIELDS) == {"patient"}
    assert PHI_FIELDS.issubset(DicomMetadata.__struct_fields__)
    assert set(PHI_KEYWORDS) == set(PatientIdentifiers.__struct_fields__)
    public = without_phi(meta)
    assert public.patient == PatientIdentifiers()
    assert msgspec.structs.replace(public, patient=meta.patient) == meta
    encoded = msgspec.json.encode(public)
    assert str(ds.PatientName).encode() not in encoded
    assert ds.PatientID.encode() not in encoded


def test_metadata_is_frozen_and_round_trips_through_json() -> None:
    meta = read_dicom(dicom_bytes("mlut_18.dcm")).metadata
    with pytest.raises(AttributeError):
        meta.rows = 1  # type: ignore[misc]
    assert msgspec.json.decode(msgspec.json.encode(meta), type=DicomMetadata) == meta


def test_pydicom_warnings_on_odd_files_become_notes() -> None:
    # bad_sequence.dcm has invalid UIDs: pydicom warns, ingest records instead of raising.
    meta = read_dicom(dicom_bytes("bad_sequence.dcm")).metadata
    assert any("Invalid value for VR UI" in note for note in meta.notes)

"""What ingest records of a DICOM file: display and export values, with patient identifiers apart.

Everything here is a frozen msgspec Struct, so the web layer can encode it as is. Patient
identifiers live only in `DicomMetadata.patient`; `PHI_FIELDS` names the fields that carry them
and `without_phi` blanks them for labelers (admins may opt in per project).
"""

from typing import Final, Literal

import msgspec

VoiFunction = Literal["LINEAR", "LINEAR_EXACT", "SIGMOID"]
VOI_FUNCTIONS: Final[tuple[VoiFunction, ...]] = ("LINEAR", "LINEAR_EXACT", "SIGMOID")


class Window(msgspec.Struct, frozen=True, kw_only=True):
    """A window (VOI LUT Function over Window Center/Width), from the file or chosen by a user."""

    center: float
    width: float
    function: VoiFunction = "LINEAR"
    explanation: str = ""


class LookupTable(msgspec.Struct, frozen=True, kw_only=True):
    """A Modality or VOI LUT: `data[i]` is the output for input `first_mapped + i`."""

    first_mapped: int
    bits: int
    data: tuple[int, ...]
    explanation: str = ""
    lut_type: str = ""


class PixelTransform(msgspec.Struct, frozen=True, kw_only=True):
    """The Modality LUT and VOI LUT modules in force for one frame (PS3.3 C.11.1 and C.11.2)."""

    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    rescale_type: str = ""
    modality_lut: LookupTable | None = None
    windows: tuple[Window, ...] = ()
    voi_luts: tuple[LookupTable, ...] = ()
    voi_lut_function: str = ""


class PatientIdentifiers(msgspec.Struct, frozen=True, kw_only=True):
    """Protected health information: never shown to labelers unless a project opts in."""

    patient_name: str = ""
    patient_id: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    patient_age: str = ""
    other_patient_ids: str = ""
    accession_number: str = ""
    institution_name: str = ""
    referring_physician_name: str = ""
    study_date: str = ""
    study_time: str = ""
    study_id: str = ""
    study_description: str = ""
    series_description: str = ""


# The DICOM keyword that fills each PatientIdentifiers field.
PHI_KEYWORDS: Final[dict[str, str]] = {
    "patient_name": "PatientName",
    "patient_id": "PatientID",
    "patient_birth_date": "PatientBirthDate",
    "patient_sex": "PatientSex",
    "patient_age": "PatientAge",
    "other_patient_ids": "OtherPatientIDs",
    "accession_number": "AccessionNumber",
    "institution_name": "InstitutionName",
    "referring_physician_name": "ReferringPhysicianName",
    "study_date": "StudyDate",
    "study_time": "StudyTime",
    "study_id": "StudyID",
    "study_description": "StudyDescription",
    "series_description": "SeriesDescription",
}

# The fields of DicomMetadata that carry protected health information.
PHI_FIELDS: Final[frozenset[str]] = frozenset({"patient"})


class DicomMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """The attributes needed to display, window and export one DICOM instance."""

    sop_instance_uid: str
    sop_class_uid: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    modality: str = ""
    transfer_syntax_uid: str
    transfer_syntax: str
    rows: int
    columns: int
    frames: int = 1
    samples_per_pixel: int = 1
    photometric_interpretation: str
    bits_allocated: int
    bits_stored: int
    high_bit: int
    pixel_representation: int = 0
    pixel_padding_value: int | None = None
    pixel_padding_range_limit: int | None = None
    presentation_lut_shape: str = ""
    # The top-level modules, overlaid by the shared functional groups of Enhanced files.
    transform: PixelTransform = PixelTransform()
    # One per frame when per-frame functional groups change anything; empty otherwise.
    frame_transforms: tuple[PixelTransform, ...] = ()
    # What pydicom warned about and what ingest repaired, for admins.
    notes: tuple[str, ...] = ()
    patient: PatientIdentifiers = PatientIdentifiers()

    @property
    def is_monochrome(self) -> bool:
        return self.photometric_interpretation in ("MONOCHROME1", "MONOCHROME2")

    @property
    def is_inverted(self) -> bool:
        return self.photometric_interpretation == "MONOCHROME1"

    def frame_transform(self, frame: int) -> PixelTransform:
        """Return the modality and VOI values in force for `frame` (0-based)."""
        if not 0 <= frame < self.frames:
            raise IndexError(f"frame {frame} is out of range: the image has {self.frames}")
        return self.frame_transforms[frame] if self.frame_transforms else self.transform


def without_phi(metadata: DicomMetadata) -> DicomMetadata:
    """Return `metadata` with every PHI field blanked, as labelers may see it."""
    return msgspec.structs.replace(metadata, patient=PatientIdentifiers())

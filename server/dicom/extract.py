"""Read DicomMetadata out of a parsed pydicom Dataset, Enhanced functional groups included."""

import math
from collections.abc import Iterable
from typing import Any, cast

import msgspec
import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import UID

from server.dicom.errors import InvalidImageError, UnsupportedImageError
from server.dicom.metadata import (
    PHI_KEYWORDS,
    VOI_FUNCTIONS,
    DicomMetadata,
    LookupTable,
    PatientIdentifiers,
    PixelTransform,
    VoiFunction,
    Window,
)


def extract_metadata(ds: Dataset, notes: list[str]) -> DicomMetadata:
    """Return the metadata of `ds`, appending to `notes` what was odd but repaired."""
    if "PixelData" not in ds:
        other = [k for k in ("FloatPixelData", "DoubleFloatPixelData") if k in ds]
        what = f"{other[0]}, which is not supported" if other else "no Pixel Data"
        raise UnsupportedImageError(f"the file holds no displayable image: it has {what}")
    syntax = UID(_text(ds.file_meta, "TransferSyntaxUID"))
    if not syntax:
        raise InvalidImageError("the file meta information has no Transfer Syntax UID")
    rows, columns = _required_int(ds, "Rows"), _required_int(ds, "Columns")
    bits_allocated = _required_int(ds, "BitsAllocated")
    bits_stored = _int(ds, "BitsStored")
    if bits_stored is None:
        notes.append("Bits Stored is missing: taken as Bits Allocated")
        bits_stored = bits_allocated
    high_bit = _int(ds, "HighBit")
    little_endian = syntax.is_little_endian if syntax.is_transfer_syntax else True
    transform = _transform(ds, PixelTransform(), little_endian, notes)
    shared = _groups(ds, "SharedFunctionalGroupsSequence")
    if shared:
        transform = _transform(shared[0], transform, little_endian, notes)
    frames = _frames(ds, notes)
    return DicomMetadata(
        sop_instance_uid=_text(ds, "SOPInstanceUID"),
        sop_class_uid=_text(ds, "SOPClassUID"),
        study_instance_uid=_text(ds, "StudyInstanceUID"),
        series_instance_uid=_text(ds, "SeriesInstanceUID"),
        modality=_text(ds, "Modality"),
        transfer_syntax_uid=str(syntax),
        transfer_syntax=syntax.name,
        rows=rows,
        columns=columns,
        frames=frames,
        samples_per_pixel=_int(ds, "SamplesPerPixel") or 1,
        photometric_interpretation=_text(ds, "PhotometricInterpretation").upper() or "MONOCHROME2",
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        high_bit=bits_stored - 1 if high_bit is None else high_bit,
        pixel_representation=_int(ds, "PixelRepresentation") or 0,
        pixel_padding_value=_int(ds, "PixelPaddingValue"),
        pixel_padding_range_limit=_int(ds, "PixelPaddingRangeLimit"),
        presentation_lut_shape=_text(ds, "PresentationLUTShape").upper(),
        transform=transform,
        frame_transforms=_per_frame(ds, transform, frames, little_endian, notes),
        notes=(),
        patient=PatientIdentifiers(
            **{field: _text(ds, keyword) for field, keyword in PHI_KEYWORDS.items()}
        ),
    )


def _per_frame(
    ds: Dataset, shared: PixelTransform, frames: int, little_endian: bool, notes: list[str]
) -> tuple[PixelTransform, ...]:
    groups = _groups(ds, "PerFrameFunctionalGroupsSequence")
    if not groups:
        return ()
    if len(groups) != frames:
        notes.append(f"{len(groups)} per-frame functional groups for {frames} frames")
    found = [_transform(item, shared, little_endian, notes) for item in groups[:frames]]
    found += [shared] * (frames - len(found))
    return tuple(found) if any(t != shared for t in found) else ()


def _transform(
    item: Dataset, base: PixelTransform, little_endian: bool, notes: list[str]
) -> PixelTransform:
    """Overlay on `base` the modality and VOI modules that `item` (or its macros) carries."""
    changes: dict[str, Any] = {}
    rescale = _first(item, "PixelValueTransformationSequence") or item
    if "RescaleSlope" in rescale or "RescaleIntercept" in rescale:
        slope = _float(rescale, "RescaleSlope", 1.0)
        intercept = _float(rescale, "RescaleIntercept", 0.0)
        if not (math.isfinite(slope) and math.isfinite(intercept)):
            raise InvalidImageError(f"Rescale Slope {slope} / Intercept {intercept} not finite")
        changes.update(rescale_slope=slope, rescale_intercept=intercept)
        changes["rescale_type"] = _text(rescale, "RescaleType")
    modality_luts = _luts(rescale, "ModalityLUTSequence", little_endian, "ModalityLUTType")
    if modality_luts:
        changes["modality_lut"] = modality_luts[0]
    voi = _first(item, "FrameVOILUTSequence") or item
    if "WindowCenter" in voi or "WindowWidth" in voi or "VOILUTFunction" in voi:
        function = _text(voi, "VOILUTFunction").upper()
        changes["voi_lut_function"] = function
        changes["windows"] = _windows(voi, function, notes)
    voi_luts = _luts(voi, "VOILUTSequence", little_endian, "")
    if voi_luts:
        changes["voi_luts"] = voi_luts
    return msgspec.structs.replace(base, **changes) if changes else base


def _windows(item: Dataset, function: str, notes: list[str]) -> tuple[Window, ...]:
    if function and function not in VOI_FUNCTIONS:
        notes.append(f"VOI LUT Function {function!r} is not in the standard: LINEAR used")
    used: VoiFunction = function if function in VOI_FUNCTIONS else "LINEAR"
    centers = _floats(item, "WindowCenter")
    widths = _floats(item, "WindowWidth")
    explanations = _strings(item, "WindowCenterWidthExplanation")
    if len(centers) != len(widths):
        notes.append(f"{len(centers)} Window Center values for {len(widths)} Window Width")
    windows = []
    for i, (center, width) in enumerate(zip(centers, widths, strict=False)):
        # PS3.3 C.11.2.1.2: LINEAR needs a width of at least 1, the others a positive one.
        least = 1.0 if used == "LINEAR" else math.ulp(0.0)
        if not (math.isfinite(center) and math.isfinite(width) and width >= least):
            notes.append(f"window {i} ({center}/{width}) is invalid for {used}: ignored")
            continue
        explanation = explanations[i] if i < len(explanations) else ""
        windows.append(Window(center=center, width=width, function=used, explanation=explanation))
    return tuple(windows)


def _luts(item: Dataset, keyword: str, little_endian: bool, type_keyword: str) -> list[LookupTable]:
    tables = []
    for entry in _groups(item, keyword):
        descriptor = entry.get("LUTDescriptor")
        if descriptor is None or "LUTData" not in entry or len(descriptor) != 3:
            raise InvalidImageError(f"{keyword} has an item without LUT Descriptor or LUT Data")
        count, first, bits = (int(v) for v in descriptor)
        count = count or 65536  # PS3.3 C.11.1.1.1: 0 means 2^16 entries
        if not 1 <= bits <= 16:
            raise InvalidImageError(f"{keyword} declares {bits} bits per entry")
        data = _lut_data(entry["LUTData"].value, little_endian)
        if len(data) < count:
            raise InvalidImageError(f"{keyword} has {len(data)} entries, its descriptor {count}")
        tables.append(
            LookupTable(
                first_mapped=first,
                bits=bits,
                data=data[:count],
                explanation=_text(entry, "LUTExplanation"),
                lut_type=_text(entry, type_keyword) if type_keyword else "",
            )
        )
    return tables


def _lut_data(value: object, little_endian: bool) -> tuple[int, ...]:
    if isinstance(value, bytes | bytearray):
        # OW: 16-bit words in the transfer syntax's byte order.
        words = np.frombuffer(value[: len(value) // 2 * 2], dtype="<u2" if little_endian else ">u2")
        return tuple(int(v) for v in words)
    if isinstance(value, int):
        return (value,)
    return tuple(int(v) for v in cast(Iterable[int], value))


def _frames(ds: Dataset, notes: list[str]) -> int:
    raw = ds.get("NumberOfFrames")
    if raw in (None, ""):
        return 1
    try:
        frames = int(raw)
    except (TypeError, ValueError):
        raise InvalidImageError(f"Number of Frames {raw!r} is not a number") from None
    if frames < 1:
        notes.append(f"Number of Frames is {frames}: taken as 1")
        return 1
    return frames


def _groups(item: Dataset, keyword: str) -> list[Dataset]:
    value = item.get(keyword)
    return list(value) if value else []


def _first(item: Dataset, keyword: str) -> Dataset | None:
    groups = _groups(item, keyword)
    return groups[0] if groups else None


def _text(item: Dataset, keyword: str) -> str:
    value = item.get(keyword)
    if value is None:
        return ""
    if isinstance(value, list | tuple | MultiValue):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _strings(item: Dataset, keyword: str) -> list[str]:
    value = item.get(keyword)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value.strip()]
    return [str(v).strip() for v in value]


def _int(item: Dataset, keyword: str) -> int | None:
    value = item.get(keyword)
    if value is None or value == "":
        return None
    if isinstance(value, bytes):
        raise InvalidImageError(f"{keyword} could not be read as a number")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidImageError(f"{keyword} {value!r} is not a whole number") from None


def _required_int(item: Dataset, keyword: str) -> int:
    value = _int(item, keyword)
    if value is None:
        raise InvalidImageError(f"the image has no {keyword}")
    return value


def _float(item: Dataset, keyword: str, default: float) -> float:
    values = _floats(item, keyword)
    return values[0] if values else default


def _floats(item: Dataset, keyword: str) -> list[float]:
    value = item.get(keyword)
    if value is None or value == "":
        return []
    items = [value] if isinstance(value, str | int | float) else list(value)
    try:
        return [float(v) for v in items]
    except (TypeError, ValueError):
        raise InvalidImageError(f"{keyword} {value!r} is not a number") from None

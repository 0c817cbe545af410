"""DICOM for annolog: ingest with guards, metadata without PHI, standard windowing, PNG.

image = read_dicom(data)                  # DicomError subclasses on bad input
image.metadata                            # DicomMetadata; without_phi() for labelers
grey = image.render(frame, voi=None)      # uint8 view: file's VOI, else automatic
png = encode_png(grey)                    # fast lossless PNG
payload = encode_values(image, frame)     # modality values for the browser's window/level
"""

from server.dicom.display import Voi, display_lut
from server.dicom.errors import (
    DicomError,
    ImageTooLargeError,
    InvalidImageError,
    NotDicomError,
    TruncatedPixelDataError,
    UnsupportedImageError,
    UnsupportedTransferSyntaxError,
)
from server.dicom.image import DicomImage, Limits, read_dicom
from server.dicom.metadata import (
    PHI_FIELDS,
    PHI_KEYWORDS,
    DicomMetadata,
    LookupTable,
    PatientIdentifiers,
    PixelTransform,
    VoiFunction,
    Window,
    without_phi,
)
from server.dicom.png import encode_png
from server.dicom.values import decode_values, encode_values

__all__ = [
    "PHI_FIELDS",
    "PHI_KEYWORDS",
    "DicomError",
    "DicomImage",
    "DicomMetadata",
    "ImageTooLargeError",
    "InvalidImageError",
    "Limits",
    "LookupTable",
    "NotDicomError",
    "PatientIdentifiers",
    "PixelTransform",
    "TruncatedPixelDataError",
    "UnsupportedImageError",
    "UnsupportedTransferSyntaxError",
    "Voi",
    "VoiFunction",
    "Window",
    "decode_values",
    "display_lut",
    "encode_png",
    "encode_values",
    "read_dicom",
    "without_phi",
]

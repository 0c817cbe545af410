"""DICOM benchmark: one 512×512 CT slice through decode, windowing and PNG, beside baselines.

Prints medians of several runs, in milliseconds, and the ratio to each baseline:
  decode     annolog's ingest (parse, checks, a validation render) and a frame decode, against
             pydicom's dcmread + pixel_array;
  windowing  the display table (built once per window) and its one np.take, against pydicom's
             apply_modality_lut + apply_voi_lut (float64, as pydicom returns it);
  png        Pillow's default PNG against annolog's Z_RLE setting, time and bytes;
  values     the browser's modality values payload, time and bytes.

    python bench/dicom.py               # 693_UNCI.dcm from pydicom-data, 50 runs
    python bench/dicom.py --runs 200 --file path/to/slice.dcm
"""

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from importlib.metadata import entry_points
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from numpy.typing import NDArray
from PIL import Image
from pydicom.pixels.processing import apply_modality_lut, apply_voi_lut
from pydicom.pixels.utils import pixel_array

from server.dicom import Window, encode_png, encode_values, read_dicom
from server.dicom.display import apply_lut, display_lut

DEFAULT_FILE = "693_UNCI.dcm"  # CT, 512×512, signed 14 bits, rescale -1024, window 40/100


def find_test_file(name: str) -> Path:
    """Find a pydicom test file on disk only: pydicom's own lookup may try the network."""
    directories = [Path(pydicom.__file__).parent / "data" / "test_files"]
    for entry in entry_points(group="pydicom.data.external_sources"):
        directories.append(Path(entry.load()().data_path))
    for directory in directories:
        if (directory / name).is_file():
            return directory / name
    raise SystemExit(f"{name} not found in {directories}: pip install pydicom-data")


def median_ms(action: Callable[[], object], runs: int) -> float:
    """Return the median wall time of `action` in milliseconds, after one warm-up call."""
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def pillow_png(pixels: NDArray[np.uint8], **options: Any) -> bytes:
    out = BytesIO()
    Image.fromarray(pixels).save(out, format="PNG", **options)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--file", type=Path, default=None)
    args = parser.parse_args()
    path = args.file or find_test_file(DEFAULT_FILE)
    data = path.read_bytes()
    runs = args.runs

    image = read_dicom(data)
    meta = image.metadata
    stored = image.stored(0)
    transform = meta.transform
    window = image.default_voi(0)
    ds = pydicom.dcmread(BytesIO(data))
    print(f"{path.name}: {meta.modality} {meta.rows}×{meta.columns}, {stored.dtype}, {window}")
    print(f"medians of {runs} runs, ms\n")

    ingest = median_ms(lambda: read_dicom(data), runs)
    parse_and_decode = median_ms(lambda: pydicom.dcmread(BytesIO(data)).pixel_array, runs)
    frame = median_ms(lambda: image.stored(0), runs)
    baseline = median_ms(lambda: pixel_array(ds), runs)
    print(f"decode   ingest (parse+checks+render) {ingest:7.2f}")
    print(f"         pydicom dcmread+pixel_array  {parse_and_decode:7.2f}")
    print(
        f"         frame of a parsed file       {frame:7.2f}  "
        f"pydicom pixel_array {baseline:.2f}, ratio {baseline / frame:.1f}x"
    )

    lut = display_lut(stored.dtype, transform, window, meta.is_inverted)
    build = median_ms(lambda: display_lut(stored.dtype, transform, window, False), runs)
    take = median_ms(lambda: apply_lut(lut, stored), runs)
    render = median_ms(lambda: image.render(0), runs)

    def pydicom_window() -> object:
        return apply_voi_lut(apply_modality_lut(stored, ds), ds)

    reference = median_ms(pydicom_window, runs)
    print(f"window   table apply (one np.take)    {take:7.2f}  target <= 1 ms")
    print(f"         table build (65,536 values)  {build:7.2f}")
    print(f"         render (decode+build+apply)  {render:7.2f}")
    print(
        f"         pydicom modality+voi         {reference:7.2f}  "
        f"ratio {reference / take:.1f}x (apply), {reference / (take + build):.1f}x (build+apply)"
    )

    views = {"file window": image.render(0)}
    if meta.modality == "CT":
        views["soft tissue 400/40"] = image.render(0, Window(center=40, width=400))
    views["automatic"] = image.render(0, image.auto_window(0))
    for label, grey in views.items():
        default_png, ours_png = pillow_png(grey), encode_png(grey)
        default_ms = median_ms(partial(pillow_png, grey), runs)
        ours_ms = median_ms(partial(encode_png, grey), runs)
        print(f"png      {label}")
        print(
            f"         Pillow default               {default_ms:7.2f}  {len(default_png):8,} bytes"
        )
        print(
            f"         annolog Z_RLE                {ours_ms:7.2f}  {len(ours_png):8,} bytes  "
            f"ratio {default_ms / ours_ms:.1f}x, target <= 5 ms"
        )

    payload = encode_values(image, 0)
    values_ms = median_ms(lambda: encode_values(image, 0), runs)
    raw = stored.nbytes
    print(
        f"values   zlib'd byte planes               {values_ms:7.2f}  {len(payload):8,} bytes "
        f"({len(payload) / raw:.0%} of {raw:,})"
    )


if __name__ == "__main__":
    main()

"""Image → a fixed float32 vector: grey thumbnail, gradient and colour histograms.

Takes 2-D grey or (H, W, 3|4) RGB(A) uint8 arrays; DICOM comes here after windowing, as grey
uint8. Large images are first reduced by block averaging (one reshaping pass over the pixels)
and area averaging to at most 128 pixels a side; the rest works on that small image.

The vector (448 values with the defaults) is, in order:
- the grey thumbnail, 16×16, scaled to [0, 1];
- gradient orientation histograms (8 directions) over a 4×4 grid of cells of a 32×32 grey
  image, weighted by magnitude and L2-normalised as a whole (a small HOG);
- red, green and blue histograms (16 bins each, each summing to 1; grey counts as R = G = B);
- a grey histogram (16 bins, summing to 1).
"""

import numpy as np

from models.errors import FeatureError
from models.types import Float64Array, FloatArray, UInt8Array

THUMB = 16
GRADIENT_SIZE = 32
CELLS = 4
ORIENTATIONS = 8
BINS = 16
WORKING_SIZE = 128

IMAGE_FEATURES = THUMB * THUMB + CELLS * CELLS * ORIENTATIONS + 3 * BINS + BINS
FEATURE_VERSION = f"image-v1-{IMAGE_FEATURES}"
"""Changes whenever the vector changes; cache keys include it."""

_GREY = np.array([0.299, 0.587, 0.114])


def image_features(image: UInt8Array) -> FloatArray:
    """One image → a float32 vector of length `IMAGE_FEATURES`."""
    pixels = _checked(image)
    h, w = pixels.shape[:2]
    # Every part below is independent of the aspect ratio, so each axis shrinks on its own.
    small = _block_mean(pixels, max(1, h // WORKING_SIZE), max(1, w // WORKING_SIZE))
    small = area_resize(small, min(small.shape[0], WORKING_SIZE), min(small.shape[1], WORKING_SIZE))
    rgb = np.repeat(small, 3, axis=2) if small.shape[2] == 1 else small
    grey = rgb @ _GREY
    parts = (
        area_resize(grey, THUMB, THUMB).ravel() / 255.0,
        _gradient_histograms(area_resize(grey, GRADIENT_SIZE, GRADIENT_SIZE)),
        _colour_histograms(rgb),
        _histogram(grey),
    )
    return np.concatenate(parts).astype(np.float32)


def image_features_batch(images: list[UInt8Array]) -> FloatArray:
    """Many images → an (N, IMAGE_FEATURES) float32 matrix."""
    out = np.empty((len(images), IMAGE_FEATURES), dtype=np.float32)
    for i, image in enumerate(images):
        out[i] = image_features(image)
    return out


def area_resize(a: Float64Array | UInt8Array, height: int, width: int) -> Float64Array:
    """Resize the first two axes: area averaging when shrinking, linear when growing."""
    if height < 1 or width < 1:
        raise FeatureError(f"cannot resize to {height}×{width}")
    out = _resize_axis(np.asarray(a, dtype=np.float64), height, 0)
    return _resize_axis(out, width, 1)


def _checked(image: UInt8Array) -> UInt8Array:
    """The image as (H, W, 1) grey or (H, W, 3) colour, without copying."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        got = image.dtype if isinstance(image, np.ndarray) else type(image).__name__
        raise FeatureError(f"an image must be a uint8 array, got {got}")
    if image.ndim == 2:
        pixels = image[:, :, None]
    elif image.ndim == 3 and image.shape[2] in (1, 3, 4):
        pixels = image[:, :, :3]
    else:
        raise FeatureError(
            f"an image must be (H, W) grey or (H, W, 3|4) colour, got shape {image.shape}"
        )
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise FeatureError(f"an image must not be empty, got shape {image.shape}")
    return pixels


def _block_mean(pixels: UInt8Array, fh: int, fw: int) -> Float64Array:
    """Mean over fh × fw blocks (the last partial rows and columns dropped).

    One cheap pass over a large image, by reshaping; `area_resize` finishes on the result.
    """
    if fh == fw == 1:
        return pixels.astype(np.float64)
    h, w, c = pixels.shape
    rows, cols = h // fh, w // fw
    cropped = pixels[: rows * fh, : cols * fw]
    summed = cropped.reshape(rows, fh, cols * fw * c).sum(axis=1, dtype=np.uint32)
    blocks = summed.reshape(rows, cols, fw, c).sum(axis=2, dtype=np.uint32)
    out: Float64Array = blocks / float(fh * fw)
    return out


def _resize_axis(a: Float64Array, n: int, axis: int) -> Float64Array:
    size = a.shape[axis]
    if size == n:
        return a
    if size > n:
        edges = np.floor(np.arange(n + 1) * (size / n)).astype(np.int64)
        sums = np.add.reduceat(a, edges[:-1], axis=axis)
        counts = np.diff(edges).astype(np.float64)
        shape = [1] * a.ndim
        shape[axis] = n
        shrunk: Float64Array = sums / counts.reshape(shape)
        return shrunk
    # Growing: linear interpolation between pixel centres, edges clamped.
    centres = (np.arange(n) + 0.5) * (size / n) - 0.5
    centres = np.clip(centres, 0, size - 1)
    low = np.floor(centres).astype(np.int64)
    high = np.minimum(low + 1, size - 1)
    frac = centres - low
    shape = [1] * a.ndim
    shape[axis] = n
    frac_b = frac.reshape(shape)
    grown: Float64Array = np.take(a, low, axis=axis) * (1 - frac_b)
    grown += np.take(a, high, axis=axis) * frac_b
    return grown


def _gradient_histograms(grey: Float64Array) -> Float64Array:
    gy, gx = np.gradient(grey)
    magnitude = np.hypot(gx, gy)
    angle = np.arctan2(gy, gx) % (2 * np.pi)
    direction = np.minimum((angle * (ORIENTATIONS / (2 * np.pi))).astype(np.int64), 7)
    cell = GRADIENT_SIZE // CELLS
    rows = np.arange(GRADIENT_SIZE) // cell
    cell_index = rows[:, None] * CELLS + rows[None, :]
    index = cell_index * ORIENTATIONS + direction
    hist: Float64Array = np.bincount(
        index.ravel(), weights=magnitude.ravel(), minlength=CELLS * CELLS * ORIENTATIONS
    ).astype(np.float64)
    norm = float(np.linalg.norm(hist))
    if norm > 0:
        hist /= norm
    return hist


def _colour_histograms(rgb: Float64Array) -> Float64Array:
    return np.concatenate([_histogram(rgb[:, :, c]) for c in range(3)])


def _histogram(channel: Float64Array) -> Float64Array:
    bins = np.minimum((channel.ravel() * (BINS / 256.0)).astype(np.int64), BINS - 1)
    counts: Float64Array = np.bincount(bins, minlength=BINS).astype(np.float64)
    counts /= counts.sum()
    return counts

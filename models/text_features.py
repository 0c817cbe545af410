"""Text → hashed word and character n-gram vectors, stable across processes.

Words are lower-cased runs of word characters (Unicode-aware); the word block counts unigrams
and bigrams, the character block counts 3- to 5-grams of each word padded with spaces (so
prefixes and suffixes are their own grams). Each gram goes to a bucket by `zlib.crc32` of its
UTF-8 bytes, never Python's `hash()` (salted per process), with a sign from another bit of the
same hash so collisions tend to cancel. Counts become 1 + log(count); each block is then
L2-normalised, so the vector has norm √2 for any text with words (zero for one without).
"""

import itertools
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from models.types import FloatArray

WORD_DIM = 4096
CHAR_DIM = 4096
CHAR_NGRAMS = (3, 4, 5)
FEATURE_VERSION = "text-v1"

_WORD = re.compile(r"\w+")


def stable_hash(text: str) -> int:
    """A 32-bit hash of a string that is the same in every process and on every machine."""
    return zlib.crc32(text.encode("utf-8"))


def hash_into(grams: Iterable[str], row: FloatArray, *, offset: int = 0, dim: int) -> None:
    """Add the signed, sub-linear counts of `grams` to `row[offset : offset + dim]`."""
    for gram, count in Counter(grams).items():
        h = stable_hash(gram)
        sign = -1.0 if h & 0x80000000 else 1.0
        row[offset + h % dim] += sign * (1.0 + math.log(count))


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def word_grams(tokens: Sequence[str]) -> list[str]:
    grams = [f"w:{t}" for t in tokens]
    grams.extend(f"b:{a} {b}" for a, b in itertools.pairwise(tokens))
    return grams


def char_grams(tokens: Sequence[str], sizes: Sequence[int] = CHAR_NGRAMS) -> list[str]:
    grams: list[str] = []
    for token in tokens:
        padded = f" {token} "
        for n in sizes:
            grams.extend(f"c:{padded[i : i + n]}" for i in range(max(1, len(padded) - n + 1)))
    return grams


def text_features(
    texts: Sequence[str], *, word_dim: int = WORD_DIM, char_dim: int = CHAR_DIM
) -> FloatArray:
    """Texts → an (N, word_dim + char_dim) float32 matrix."""
    out = np.zeros((len(texts), word_dim + char_dim), dtype=np.float32)
    for i, text in enumerate(texts):
        tokens = words(text)
        hash_into(word_grams(tokens), out[i], dim=word_dim)
        hash_into(char_grams(tokens), out[i], offset=word_dim, dim=char_dim)
        _normalise(out[i, :word_dim])
        _normalise(out[i, word_dim:])
    return out


def _normalise(block: FloatArray) -> None:
    norm = float(np.linalg.norm(block))
    if norm > 0:
        block /= norm

"""Text and token features: hashed with crc32, so the same in every process."""

import hashlib
import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np

from models.text_features import CHAR_DIM, WORD_DIM, stable_hash, text_features
from models.token_features import shape, text_token_features, token_features
from models.tokens import tokenize

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["The quick brown fox", "naïve café — Zoë's ÅNGSTRÖM 🙂", "", "fox fox fox"]

DIGEST = """
import hashlib, sys
from models.text_features import text_features
from models.token_features import text_token_features
texts = sys.argv[1:]
h = hashlib.sha256(text_features(texts).tobytes())
for t in texts:
    h.update(text_token_features(t, dim=512)[1].tobytes())
print(h.hexdigest())
"""


def digest_here() -> str:
    h = hashlib.sha256(text_features(TEXTS).tobytes())
    for t in TEXTS:
        h.update(text_token_features(t, dim=512)[1].tobytes())
    return h.hexdigest()


def test_features_are_the_same_in_processes_with_different_hash_seeds() -> None:
    digests = set()
    for seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", DIGEST, *TEXTS],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        digests.add(out.stdout.strip())
    assert digests == {digest_here()}


def test_stable_hash_is_crc32() -> None:
    assert stable_hash("Zoë") == zlib.crc32("Zoë".encode())


def test_text_vectors_have_unit_blocks_and_zero_for_no_words() -> None:
    x = text_features(TEXTS)
    assert x.shape == (len(TEXTS), WORD_DIM + CHAR_DIM)
    assert x.dtype == np.float32
    norms = np.linalg.norm(x[:, :WORD_DIM], axis=1)
    np.testing.assert_allclose(norms, [1, 1, 0, 1], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(x[:, WORD_DIM:], axis=1), [1, 1, 0, 1], atol=1e-6)


def test_similar_texts_are_closer_than_different_ones() -> None:
    a, b, c = text_features(["the cat sat on the mat", "a cat sat on a mat", "stock prices fell"])
    assert a @ b > a @ c + 0.3


def test_case_does_not_matter_for_text() -> None:
    a, b = text_features(["Hello World", "hello world"])
    np.testing.assert_array_equal(a, b)


def test_token_rows_see_their_neighbours() -> None:
    _, left = text_token_features("Mr Smith said", dim=1024)
    _, right = text_token_features("Dr Smith said", dim=1024)
    assert left.shape == (3, 1024)
    np.testing.assert_allclose(np.linalg.norm(left, axis=1), 1.0, atol=1e-6)
    assert not np.allclose(left[1], right[1])  # same word, different neighbour
    assert token_features([], dim=8).shape == (0, 8)


def test_shapes() -> None:
    assert [shape(w) for w in ("Paris", "2024", "U.S.", "iPhone")] == ["Xx", "d", "X.X.", "xXx"]


def test_tokens_carry_code_point_offsets() -> None:
    text = "🙂 Zoë's e-mail: ÅNGSTRÖM, 3.5!"
    tokens = tokenize(text)
    assert [t.text for t in tokens] == ["🙂", "Zoë's", "e-mail", ":", "ÅNGSTRÖM", ",", "3.5", "!"]
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert tokens[1].start == 2  # the emoji is one code point (two UTF-16 units)

"""NER: each token → a hashed feature vector of itself and its neighbours.

A token's features are its lower-cased form, its shape (`Xxxx`, `dd`, `X.X.`), prefixes and
suffixes of 2 and 3 characters, capitalisation flags, and the form and shape of the tokens up
to two places either side (with `<s>`/`</s>` past the ends). Each feature string is hashed
with `zlib.crc32` into a signed bucket, as in `models.text_features`; each row is then
L2-normalised.
"""

from collections.abc import Sequence

import numpy as np

from models.text_features import hash_into
from models.tokens import Token, tokenize
from models.types import FloatArray

TOKEN_DIM = 4096
WINDOW = 2
FEATURE_VERSION = "token-v1"


def shape(word: str) -> str:
    """`Paris` → `Xx`, `2024` → `d`, `U.S.` → `X.X.`: character classes, repeats collapsed."""
    out: list[str] = []
    for ch in word:
        c = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def token_feature_strings(words: Sequence[str], i: int) -> list[str]:
    word = words[i]
    lower = word.lower()
    feats = [
        "bias",
        f"w={lower}",
        f"shape={shape(word)}",
        f"p2={lower[:2]}",
        f"p3={lower[:3]}",
        f"s2={lower[-2:]}",
        f"s3={lower[-3:]}",
    ]
    if word[:1].isupper():
        feats.append("title")
    if word.isupper():
        feats.append("upper")
    if any(ch.isdigit() for ch in word):
        feats.append("digit")
    if i == 0:
        feats.append("first")
    for d in range(-WINDOW, WINDOW + 1):
        if d == 0:
            continue
        j = i + d
        if j < 0:
            feats.append(f"{d}:<s>")
        elif j >= len(words):
            feats.append(f"{d}:</s>")
        else:
            feats.append(f"{d}:w={words[j].lower()}")
            feats.append(f"{d}:shape={shape(words[j])}")
    if i > 0:
        feats.append(f"-1|0={words[i - 1].lower()}|{lower}")
    return feats


def token_features(tokens: Sequence[Token], *, dim: int = TOKEN_DIM) -> FloatArray:
    """Tokens of one text → a (T, dim) float32 matrix, one row per token."""
    words = [t.text for t in tokens]
    out = np.zeros((len(words), dim), dtype=np.float32)
    for i in range(len(words)):
        hash_into(token_feature_strings(words, i), out[i], dim=dim)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def text_token_features(text: str, *, dim: int = TOKEN_DIM) -> tuple[list[Token], FloatArray]:
    """Tokenize a text and featurize its tokens."""
    tokens = tokenize(text)
    return tokens, token_features(tokens, dim=dim)

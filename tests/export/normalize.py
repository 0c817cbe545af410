"""The data of an export, without what tells one project or labeler from another (project
id, seq, times, who labeled), so that two exports can be compared for the same labels."""

import csv
import io
import json
import re
import zipfile
from typing import Any

import numpy as np
from PIL import Image

WHO = {"labelers", "time", "seq"}


def _rows_csv(data: bytes) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    return [{k: v for k, v in row.items() if k not in WHO} for row in rows]


def _rows_jsonl(data: bytes) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line]
    return [{k: v for k, v in row.items() if k not in WHO} for row in rows]


def _coco(data: bytes) -> dict[str, Any]:
    document = json.loads(data)
    return {
        "categories": document["categories"],
        "images": document["images"],
        "annotations": [
            {k: v for k, v in a.items() if k not in WHO} for a in document["annotations"]
        ],
    }


def _zip(data: bytes) -> dict[str, Any]:
    found: dict[str, Any] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        for name in archive.namelist():
            body = archive.read(name)
            if name.endswith(".png"):
                found[name] = np.asarray(Image.open(io.BytesIO(body))).tolist()
            elif name.endswith(".yaml"):
                found[name] = [
                    line for line in body.decode().splitlines() if not line.startswith("#")
                ]
            else:
                found[name] = re.sub(r"\s*<labeler>.*</labeler>", "", body.decode())
    return found


def normalized(fmt: str, data: bytes) -> Any:
    if fmt == "csv":
        return _rows_csv(data)
    if fmt == "jsonl":
        return _rows_jsonl(data)
    if fmt == "coco":
        return _coco(data)
    if fmt == "conll":
        return data.decode("utf-8")
    return _zip(data)

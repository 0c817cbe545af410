"""The exports as the libraries users train with read them: pycocotools for COCO (the index,
annToMask on polygons and RLE, COCOeval of an export against itself) and seqeval for CoNLL."""

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from seqeval.metrics import classification_report, f1_score
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2

from events.projections.drafts import Draft, Span
from server.export.conll import iob2
from server.export.tokens import tokenize
from tests.export.conftest import Harness
from tests.export.scenarios import SCENARIOS, TEXTS, build

# pycocotools' mask decoder predates NumPy 2's `copy` keyword and warns on every call.
NUMPY2_COPY = "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
_built: dict[str, tuple[str, dict[int | str, str]]] = {}


def project_of(harness: Harness, name: str) -> tuple[str, dict[int | str, str]]:
    if name not in _built:
        _built[name] = build(harness, SCENARIOS[name])
    return _built[name]


def load_coco(harness: Harness, project: str, tmp_path: Path) -> COCO:
    path = tmp_path / "coco.json"
    path.write_bytes(harness.export(project, "coco"))
    return COCO(str(path))


def evaluate(coco: COCO, kind: str) -> float:
    """AP@[.5:.95] of the ground truth itself, given as detections of score 1."""
    results: list[dict[str, Any]] = [
        {
            "image_id": a["image_id"],
            "category_id": a["category_id"],
            "score": 1.0,
            # Segmentation results are RLEs (COCO's results format), made from polygons too.
            **({"bbox": a["bbox"]} if kind == "bbox" else {"segmentation": coco.annToRLE(a)}),
        }
        for a in coco.dataset["annotations"]
    ]
    evaluation = COCOeval(coco, coco.loadRes(results), kind)
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    return float(evaluation.stats[0])


@pytest.mark.filterwarnings(NUMPY2_COPY)
def test_coco_boxes_index_masks_and_evaluate_to_ap_1(harness: Harness, tmp_path: Path) -> None:
    project, ids = project_of(harness, "bounding_boxes")
    coco = load_coco(harness, project, tmp_path)
    labels = SCENARIOS["bounding_boxes"].labels
    assert len(coco.getImgIds()) == len(ids) // 2  # every item, labeled or not
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["cat", "dog", "Zoë's bird"]
    by_item = {img["annolog_item_id"]: img["id"] for img in coco.dataset["images"]}
    for key, gestures in labels.items():
        image = by_item[ids[key]]
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=[image]))
        assert [a["bbox"] for a in annotations] == [
            [g["x"], g["y"], g["w"], g["h"]] for g in gestures
        ]
        for annotation, g in zip(annotations, gestures, strict=True):
            assert annotation["iscrowd"] == 0
            assert annotation["area"] == g["w"] * g["h"]
            mask = coco.annToMask(annotation)
            assert mask.shape == (coco.imgs[image]["height"], coco.imgs[image]["width"])
            # Whole-pixel boxes cover exactly their pixels.
            if all(float(g[k]).is_integer() for k in ("x", "y", "w", "h")):
                assert mask.sum() == g["w"] * g["h"]
    assert evaluate(coco, "bbox") == 1.0


@pytest.mark.filterwarnings(NUMPY2_COPY)
def test_coco_polygons_ann_to_mask_and_segm_ap_1(harness: Harness, tmp_path: Path) -> None:
    project, ids = project_of(harness, "polygons")
    coco = load_coco(harness, project, tmp_path)
    by_item = {img["annolog_item_id"]: img["id"] for img in coco.dataset["images"]}
    image = by_item[ids[1]]  # one polygon over the whole 50×20 image
    (annotation,) = coco.loadAnns(coco.getAnnIds(imgIds=[image]))
    assert annotation["segmentation"] == [[0, 0, 50, 0, 50, 20, 0, 20]]
    assert coco.annToMask(annotation).sum() == 50 * 20
    assert annotation["area"] == 1000.0
    assert annotation["bbox"] == [0, 0, 50, 20]
    assert evaluate(coco, "segm") == 1.0
    assert evaluate(coco, "bbox") == 1.0


@pytest.mark.filterwarnings(NUMPY2_COPY)
def test_coco_rle_masks_are_the_projections_masks(harness: Harness, tmp_path: Path) -> None:
    project, ids = project_of(harness, "semantic_segmentation")
    coco = load_coco(harness, project, tmp_path)
    masks = zipfile.ZipFile(io.BytesIO(harness.export(project, "png_masks")))
    legend = json.loads(masks.read("legend.json"))
    assert [entry["tag"] for entry in legend] == [None, "cat", "dog", "Zoë's bird"]
    value = {c["name"]: c["id"] for c in coco.dataset["categories"]}
    for image in coco.dataset["images"]:
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        if not annotations:
            continue
        png = np.asarray(
            Image.open(
                io.BytesIO(masks.read(f"SegmentationClass/{Path(image['file_name']).stem}.png"))
            )
        )
        composed = np.zeros_like(png)
        for annotation in annotations:
            assert isinstance(annotation["segmentation"], dict)  # RLE
            binary = coco.annToMask(annotation).astype(bool)
            assert annotation["area"] == binary.sum()
            composed[binary] = value[coco.cats[annotation["category_id"]]["name"]]
        assert (composed == png).all()
        assert png.any()
    # Item 0: a cat stroke, a dog dot, an erasure inside the cat stroke, a bird polygon.
    first = next(i for i in coco.dataset["images"] if i["annolog_item_id"] == ids[0])
    tags = {
        coco.cats[a["category_id"]]["name"]
        for a in coco.loadAnns(coco.getAnnIds(imgIds=[first["id"]]))
    }
    assert tags == {"cat", "dog", "Zoë's bird"}
    assert evaluate(coco, "segm") == 1.0


def read_conll(text: str) -> tuple[list[list[str]], list[list[str]], list[str]]:
    """Tokens and tags per sentence, and the item of each, as a CoNLL reader takes them."""
    tokens: list[list[str]] = []
    tags: list[list[str]] = []
    names: list[str] = []
    name = ""
    for line in [*text.splitlines(), ""]:
        if line.startswith("-DOCSTART-"):
            name = line.split()[2]
            continue
        if not line.strip():
            continue
        token, tag = line.rsplit(" ", 1)
        if not names or names[-1] != name:
            names.append(name)
            tokens.append([])
            tags.append([])
        tokens[-1].append(token)
        tags[-1].append(tag)
    return tokens, tags, names


def test_conll_reads_with_seqeval(harness: Harness) -> None:
    project, _ = project_of(harness, "ner")
    tokens, tags, names = read_conll(harness.export(project, "conll").decode("utf-8"))
    assert names == ["t1", "t2", "t4"]
    texts = {t["id"]: t["text"] for t in TEXTS}
    for name, sentence in zip(names, tokens, strict=True):
        assert sentence == [t for t, _, _ in tokenize(texts[name])]
    assert f1_score(tags, tags, mode="strict", scheme=IOB2) == 1.0
    report = classification_report(tags, tags, mode="strict", scheme=IOB2, output_dict=True)
    assert {"cat", "dog", "Zoë's_bird"} <= set(report)
    entities = get_entities(tags[0])
    assert [(kind, "".join(tokens[0][s : e + 1])) for kind, s, e in entities] == [
        ("cat", "Zoë"),
        ("dog", "李雷"),
        ("Zoë's_bird", "Zürich"),
    ]
    # "e\u0301tude" is one token (combining marks stay in words); Marie-Claire is three
    # tokens under one B-/I-/I- entity.
    assert tokens[1][0] == "e\u0301tude"
    assert [(k, "".join(tokens[1][s : e + 1])) for k, s, e in get_entities(tags[1])] == [
        ("cat", "Marie-Claire"),
        ("dog", "Paris"),
    ]
    assert tags[1][2:5] == ["B-cat", "I-cat", "I-cat"]
    assert tags[2] == ["O"] * len(tokens[2])


def test_iob2_takes_whole_tokens_and_the_first_of_overlapping_spans() -> None:
    text = "New York-based Zoë"
    tokens = tokenize(text)
    assert [t for t, _, _ in tokens] == ["New", "York", "-", "based", "Zoë"]
    spans = {
        "a": Span(span_id="a", tag="LOC", start=0, end=6),  # ends inside "York"
        "b": Span(span_id="b", tag="ORG", start=4, end=14),  # overlaps a: a keeps York
        "c": Span(span_id="c", tag="PER", start=16, end=17),  # inside "Zoë"
    }
    assert iob2(tokens, Draft(spans=spans)) == ["B-LOC", "I-LOC", "O", "O", "B-PER"]

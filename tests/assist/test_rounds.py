"""Training rounds on digits: when they trigger, what they record, the ONNX they store."""

import hashlib

import numpy as np

from events.annotation import TagApplied
from events.assist import ItemsClustered, ModelTrained, PrelabelProposed
from models.clustering import page_purity
from models.image_features import image_features
from models.inference import LinearPredictor
from models.onnx_export import load_linear_model
from server.assist.items import ItemReader
from server.assist.worker import Worker
from tests.assist.conftest import Lab, digit_pngs, project_of

DIGITS = [str(d) for d in range(10)]


async def test_rounds_trigger_at_the_first_count_then_as_labels_grow(
    lab: Lab, worker: Worker
) -> None:
    data = digit_pngs(120)
    ids = [item for item, _, _ in data]
    await lab.create("image_multiclass", DIGITS)
    await lab.images(data)
    await lab.label_truly(ids[:49])
    assert await worker.run_until_idle() == 0, "49 labels: no round yet"
    await lab.label_truly(ids[49:50])
    assert await worker.run_until_idle() == 1
    rounds = [r.event for r in await lab.events(ModelTrained)]
    assert [(m.round, m.labels_used) for m in rounds] == [(1, 50)]
    await lab.label_truly(ids[50:62])
    assert await worker.run_until_idle() == 0, "62 < 50 × 1.25"
    await lab.label_truly(ids[62:63])
    assert await worker.run_until_idle() == 1
    trained = [r.event for r in await lab.events(ModelTrained)]
    assert [(m.round, m.labels_used) for m in trained] == [(1, 50), (2, 63)]
    clustered = [r.event for r in await lab.events(ItemsClustered)]
    assert [c.round for c in clustered] == [1, 2]
    first = trained[0]
    assert first.classes == DIGITS
    assert first.metrics["labels"] == 50
    assert 0.5 < first.metrics["heldout_accuracy"] <= 1.0
    # With 50 labels the Wilson bound cannot promise 95%: the round proposes nothing.
    assert first.metrics["threshold_met"] == 0.0
    assert first.threshold == 1.0
    assert first.metrics["proposed"] == 0
    assert project_of(worker).models == trained


async def test_the_stored_onnx_model_matches_numpy_and_proposes_at_its_threshold(
    lab: Lab, worker: Worker
) -> None:
    data = digit_pngs(400)
    ids = [item for item, _, _ in data]
    await lab.create("image_multiclass", DIGITS)
    await lab.images(data)
    await lab.label_truly(ids[:250])
    assert await worker.run_until_idle() == 1, "one round, however far the labels got"
    (recorded,) = await lab.events(ModelTrained)
    trained = recorded.event
    assert isinstance(trained, ModelTrained)
    assert trained.labels_used == 250
    blob = lab.media.read(trained.model_hash)
    assert hashlib.sha256(blob).hexdigest() == trained.model_hash

    # Parity through the worker's path: the pool's features, the ONNX file it stored.
    reader = ItemReader(lab.media)
    project = project_of(worker)
    pool = [project.items[i] for i in ids[250:]]
    x = np.stack([image_features(reader.image(item, reduced=True)) for item in pool])
    onnx_p = LinearPredictor(blob).predict(x).probabilities
    numpy_p = load_linear_model(blob).probabilities(x)
    np.testing.assert_allclose(onnx_p, numpy_p, atol=1e-5)

    assert trained.metrics["threshold_met"] == 1.0
    proposals = {
        r.stream.removeprefix("item-p-"): r.event for r in await lab.events(PrelabelProposed)
    }
    assert proposals, "250 labels are enough to prelabel at 95%"
    assert trained.metrics["proposed"] == len(proposals)
    assert set(proposals) <= set(ids[250:])
    best = onnx_p.max(axis=1)
    for index, item in enumerate(ids[250:]):
        proposal = proposals.get(item)
        assert (proposal is not None) == (best[index] >= trained.threshold)
        if proposal is not None:
            assert isinstance(proposal, PrelabelProposed)
            assert proposal.model_hash == trained.model_hash
            assert proposal.round == 1
            assert abs(proposal.confidence - best[index]) < 1e-4
            assert proposal.tags == [DIGITS[int(onnx_p[index].argmax())]]
    right = sum(p.tags == [lab.truth[i]] for i, p in proposals.items())  # type: ignore[union-attr]
    assert right / len(proposals) >= 0.9


async def test_clustered_pages_hold_similar_unlabeled_items(lab: Lab, worker: Worker) -> None:
    data = digit_pngs(500)
    ids = [item for item, _, _ in data]
    await lab.create("image_multiclass", DIGITS, page_size=9)
    await lab.images(data)
    await lab.label_truly(ids[:60])
    await worker.run_until_idle()
    (recorded,) = await lab.events(ItemsClustered)
    assert isinstance(recorded.event, ItemsClustered)
    pages = recorded.event.clusters
    flat = [item for page in pages for item in page]
    assert sorted(flat) == sorted(ids[60:]), "every unlabeled item, once"
    assert all(1 <= len(page) <= 9 for page in pages)
    assert sum(len(page) == 9 for page in pages) >= len(pages) - 12
    classes = np.array([int(lab.truth[i]) for i in flat])
    index = {item: n for n, item in enumerate(flat)}
    purity = page_purity([[index[i] for i in page] for page in pages], classes)
    shuffled = np.random.default_rng(0).permutation(len(flat))
    random_pages = [shuffled[i : i + 9].tolist() for i in range(0, len(flat), 9)]
    assert purity > 0.7 > page_purity(random_pages, classes) + 0.2


async def test_a_later_round_proposes_only_where_its_proposal_changes(
    lab: Lab, worker: Worker
) -> None:
    data = digit_pngs(450)
    ids = [item for item, _, _ in data]
    await lab.create("image_multiclass", DIGITS)
    await lab.images(data)
    await lab.label_truly(ids[:250])
    await worker.run_until_idle()
    await lab.label_truly(ids[250:313])
    assert await worker.run_until_idle() == 1
    second = project_of(worker).models[-1]
    assert (second.round, second.labels_used) == (2, 313)
    assert second.metrics["confident"] >= second.metrics["proposed"]
    by_item: dict[str, list[PrelabelProposed]] = {}
    for recorded in await lab.events(PrelabelProposed):
        assert isinstance(recorded.event, PrelabelProposed)
        by_item.setdefault(recorded.stream, []).append(recorded.event)
    for proposals in by_item.values():
        rounds = [p.round for p in proposals]
        assert rounds == sorted(set(rounds)), "at most one proposal per item and round"
        if len(proposals) == 2:
            assert proposals[0].tags != proposals[1].tags, "round 2 re-proposed the same tags"


async def test_a_lower_target_precision_prelabels_more(lab: Lab, worker: Worker) -> None:
    data = digit_pngs(300)
    ids = [item for item, _, _ in data]
    strict, loose = Lab(lab.store, lab.media, "strict"), Lab(lab.store, lab.media, "loose")
    for team, target in ((strict, 0.99), (loose, 0.8)):
        await team.create("image_multiclass", DIGITS, target=target)
        await team.images(data)
        await team.label_truly(ids[:150])
    await worker.run_until_idle()
    high, low = (project_of(worker, p).models[0] for p in ("strict", "loose"))
    assert high.metrics["target_precision"] == 0.99
    assert low.metrics["target_precision"] == 0.8
    assert low.threshold <= high.threshold
    assert low.metrics["confident"] > high.metrics["confident"]
    assert low.metrics["heldout_lower_bound"] >= 0.8


async def test_several_tags_per_image(lab: Lab, worker: Worker) -> None:
    data = digit_pngs(200)
    tags = {
        d: ["even" if int(d) % 2 == 0 else "odd", "high" if int(d) >= 5 else "low"] for d in DIGITS
    }
    await lab.create("image_multilabel", ["even", "odd", "high", "low"])
    await lab.images(data)
    await lab.label(
        [(item, [TagApplied(tag=t) for t in tags[truth]]) for item, _, truth in data[:150]]
    )
    assert await worker.run_until_idle() == 1
    (trained,) = project_of(worker).models
    assert trained.classes == ["even", "odd", "high", "low"]
    assert trained.metrics["heldout_accuracy"] > 0.3
    for recorded in await lab.events(PrelabelProposed):
        proposal = recorded.event
        assert isinstance(proposal, PrelabelProposed)
        assert proposal.tags, "a proposal proposes at least one tag"
        assert proposal.confidence >= trained.threshold

"""Rounds on text: topics (one tag, several tags) and names (NER spans)."""

from events.annotation import TagApplied
from events.assist import ItemsClustered, ModelTrained, PrelabelProposed
from server.assist.worker import Worker
from tests.assist.conftest import TOPICS, Lab, ner_texts, topic_texts

TAGS = sorted(TOPICS)


def _item(stream: str) -> str:
    return stream.removeprefix("item-p-")


async def test_text_topics_are_learned_and_proposed(lab: Lab, worker: Worker) -> None:
    data = topic_texts(300)
    await lab.create("text_multiclass", TAGS)
    await lab.texts(data)
    await lab.label_truly([item for item, _, _ in data[:150]])
    assert await worker.run_until_idle() == 1
    (trained,) = [r.event for r in await lab.events(ModelTrained)]
    assert isinstance(trained, ModelTrained)
    assert trained.classes == TAGS
    assert trained.metrics["threshold_met"] == 1.0
    proposals = {_item(r.stream): r.event for r in await lab.events(PrelabelProposed)}
    assert len(proposals) >= 100, "a clear topic per text: most of the pool is proposed"
    assert all(p.tags == [lab.truth[i]] for i, p in proposals.items())  # type: ignore[union-attr]
    assert all(p.confidence >= trained.threshold for p in proposals.values())  # type: ignore[union-attr]
    (clustered,) = await lab.events(ItemsClustered)
    assert clustered.event.clusters  # type: ignore[union-attr]


async def test_text_with_several_tags_proposes_the_whole_set(lab: Lab, worker: Worker) -> None:
    data = topic_texts(300, seed=1)
    pairs = [
        (item, f"{text} {other}", truth)
        for (item, text, truth), (_, other, _) in zip(data, topic_texts(300, seed=2), strict=True)
    ]
    truth = {
        item: {t, o} for (item, _, t), (_, _, o) in zip(data, topic_texts(300, seed=2), strict=True)
    }
    await lab.create("text_multilabel", TAGS)
    await lab.texts(pairs)
    await lab.label(
        [(item, [TagApplied(tag=t) for t in sorted(truth[item])]) for item, _, _ in pairs[:200]]
    )
    assert await worker.run_until_idle() == 1
    (trained,) = [r.event for r in await lab.events(ModelTrained)]
    assert isinstance(trained, ModelTrained)
    proposals = {_item(r.stream): r.event for r in await lab.events(PrelabelProposed)}
    assert trained.metrics["threshold_met"] == 1.0
    assert len(proposals) >= 50
    right = sum(set(p.tags) == truth[i] for i, p in proposals.items())  # type: ignore[union-attr]
    assert right / len(proposals) >= 0.9
    assert trained.metrics["heldout_accuracy"] > 0.6


async def test_names_are_proposed_as_spans(lab: Lab, worker: Worker) -> None:
    data = ner_texts(100)
    await lab.create("ner", ["PER", "LOC"], page_size=1)
    await lab.texts([(item, text, "") for item, text, _ in data])
    await lab.label_spans(data[:64])
    assert await worker.run_until_idle() == 1
    (trained,) = [r.event for r in await lab.events(ModelTrained)]
    assert isinstance(trained, ModelTrained)
    assert trained.classes == ["PER", "LOC"]
    assert trained.metrics["threshold_met"] == 1.0
    proposals = {_item(r.stream): r.event for r in await lab.events(PrelabelProposed)}
    assert len(proposals) >= 20
    spans = {item: spans for item, _, spans in data}
    for item, proposal in proposals.items():
        assert isinstance(proposal, PrelabelProposed)
        assert [(s.start, s.end, s.tag) for s in proposal.spans] == spans[item]
        assert proposal.confidence >= trained.threshold
    (clustered,) = await lab.events(ItemsClustered)
    assert all(len(page) == 1 for page in clustered.event.clusters)  # type: ignore[union-attr]

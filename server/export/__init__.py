"""Exports of a project's labels in the formats training pipelines read, as projections of
the log as of any seq or time, streamed item by item (see docs/export.md).

    source.py    the project as of a seq: the live model, or the log replayed item by item
    labels.py    an item's labels under the options (submitted, drafts, prelabels)
    overlap.py   several labelers' submissions: each, or their majority
    run.py       the driver: items in, chunks out
    sink.py      the streaming writer; zipstream.py a zip written front to back
    jsonl.py table.py coco.py voc.py yolo.py masks.py conll.py   one module per format
"""

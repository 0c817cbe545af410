"""Imports of existing labels (COCO, YOLO, VOC, PNG masks, CoNLL/IOB2, JSONL, CSV) into a
project, as gestures and submits of the `import` actor through the one write path.

    records.py   what parsers make: a Record per item, or a Problem naming the record
    context.py   finding items by the names files use; building gestures from labels
    decide.py    pure decisions: the import's page, the gestures an item needs (or none)
    run.py       parse, then write page by page through Commands; the report
    coco.py yolo.py voc.py masks.py conll.py jsonl.py table.py   one parser per format
"""

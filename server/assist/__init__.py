"""The assistant worker and its glue: a process of its own (`annolog assist`) that follows the
log, trains when a round is due, and appends its rounds, clusters and proposals as events.

    rounds.py   when a round is due, what a project's labels are, deterministic event ids
    items.py    an item's media as an array or a text, for features and user models
    learn.py    one round: features, training, threshold, ONNX, proposals, clustered pages
    user.py     an admin's own ONNX model run over a project's items
    report.py   the admin's view: rounds, thresholds, coverage, realized precision
    worker.py   the process: fold the log, decide, run work off the loop, append, checkpoint
    main.py     the entry point (`annolog assist`)

See docs/assist.md ("The worker").
"""

"""The assistant worker and its glue: a process of its own (`annolog assist`) that follows the
log, trains when a round is due, and appends its rounds, clusters and proposals as events.

    rounds.py       when a round is due, what a project's labels are, deterministic event ids
    items.py        an item's media as an array or a text, for features and user models
    learn.py        one round: features, training, threshold, ONNX, proposals, clustered pages
    user.py         an admin's own ONNX model run over a project's items
    report.py       the admin's view: rounds, thresholds, coverage, realized precision
    follower.py     the worker's workspace: folded from the log, followed live, checkpointed
    trainer.py      a round of the worker's own model, trained or finished off the loop
    user_runner.py  an admin's model stepped through its project's items, with its cursors
    publisher.py    what the worker appends: rounds, proposals, pages, disabled models
    worker.py       the process: decide each project's next piece of work, run it, publish it
    main.py         the entry point (`annolog assist`)

See docs/assist.md ("The worker").
"""

"""The ML assistant's array code: features, training, ONNX, thresholds, clustering, user models.

Pure array-in/array-out functions; imports nothing of `server/` or `events/`. The module map
and the user-model contract are in docs/assist.md.
"""

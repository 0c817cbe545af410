"""Errors of the assistant's model code.

    ModelError
    ├── FeatureError (ValueError)        an input the featurizers cannot take: wrong dtype or shape
    ├── TrainingError (ValueError)       labels the trainer cannot fit: too few, or a bad shape
    ├── UserModelError (ValueError)      a user's ONNX file refused at load; `problem` says why
    │   ├── NotOnnxError                 the bytes are not a valid ONNX model
    │   ├── ModelTooLargeError           over the size limit: carries size and limit
    │   ├── InputContractError           wrong input count, rank, dtype or shape for its kind
    │   ├── OutputContractError          a required output name missing, or a wrong rank
    │   └── TagMapError                  the tag map names a class the model does not have
    └── InferenceError                   a model failed while running; the worker disables it

Every message names what is wrong and what was expected, so it can be shown to an admin as is.
"""


class ModelError(Exception):
    """Base of every error `models/` raises."""


class FeatureError(ModelError, ValueError):
    pass


class TrainingError(ModelError, ValueError):
    pass


class UserModelError(ModelError, ValueError):
    """A user model refused at load. `problem` is the message without the model's kind."""

    def __init__(self, kind: str, problem: str) -> None:
        super().__init__(f"{kind} model refused: {problem}")
        self.kind = kind
        self.problem = problem


class NotOnnxError(UserModelError):
    pass


class ModelTooLargeError(UserModelError):
    def __init__(self, kind: str, size: int, limit: int) -> None:
        super().__init__(kind, f"the file is {size} bytes, over the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class InputContractError(UserModelError):
    pass


class OutputContractError(UserModelError):
    pass


class TagMapError(UserModelError):
    pass


class InferenceError(ModelError):
    """A model that raised or returned outputs off its contract while running."""

    def __init__(self, model: str, problem: str) -> None:
        super().__init__(f"{model}: inference failed: {problem}")
        self.model = model
        self.problem = problem

"""The one exception family the domain raises.

A ``DomainError`` means the caller handed the law impossible inputs (negative
votes, a list id twice, seats < 1). Its message is one line, in English,
naming the offending input, so a command can print it as it is.
"""


class DomainError(ValueError):
    """Inputs the rules of the count cannot be applied to."""


class AllocationInputError(DomainError):
    """Inputs to seat allocation or settlement that are not a valid election."""


class ElectionFileError(DomainError):
    """An election file (JSON) that is not valid; ``str(error)`` is one line."""

    def __init__(self, path: str, problem: str) -> None:
        # The path ("lists[3].votes") comes first so the message says where.
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)

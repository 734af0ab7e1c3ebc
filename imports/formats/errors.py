"""The errors a reader raises: the sentence shown to the user."""


class FormatError(Exception):
    """The file cannot be read as a whole; the message is the sentence shown to the user."""


class SafetyLimitError(FormatError):
    """The file breaks one of the readers' safety limits (a size, a length, a count, a depth, an
    entity): no mapping changes that, so a job that failed on one never reads its file again."""

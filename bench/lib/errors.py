"""The one exception type the bench scripts abort on."""


class BenchError(Exception):
    """A failure that makes the numbers meaningless; aborts the run."""

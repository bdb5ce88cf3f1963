"""One exception hierarchy. Every message says what went wrong *and* what to do about it."""

from __future__ import annotations


class TwelveFactorError(Exception):
    """Base class of every error the workbook raises on purpose."""

    exit_code = 2


class ConfigurationError(TwelveFactorError):
    """A parameter, environment variable or AWS setting is wrong; names it and the fix."""

    def __init__(self, parameter: str, problem: str, fix: str):
        self.parameter = parameter
        self.problem = problem
        self.fix = fix
        super().__init__(f"{parameter}: {problem} Fix: {fix}")


class SnapshotError(ConfigurationError):
    """A snapshot on disk is missing, truncated, edited by hand or of another schema."""

    def __init__(self, problem: str, fix: str, parameter: str = "snapshot"):
        super().__init__(parameter, problem, fix)


class CollectionError(TwelveFactorError):
    """Collection as a whole could not run (individual API failures are recorded, not raised)."""


class ReadOnlyViolation(TwelveFactorError):
    """The audit tried to send an operation that is not a read. Raised before anything is sent."""

    def __init__(self, service: str, operation: str, reason: str):
        self.service = service
        self.operation = operation
        super().__init__(
            f"refused {service}:{operation} before sending it: {reason}. "
            "The audit is read-only; this is a bug in twelvefactor, please report it."
        )

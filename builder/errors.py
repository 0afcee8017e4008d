"""Exceptions, grouped by what the caller should do about them."""

from __future__ import annotations


class EventdsError(Exception):
    """Base class of every error the product raises on purpose."""

    exit_code = 1


class InputError(EventdsError):
    """Input could not be read or parsed (missing file, bad JSON, bad encoding). Fix the input."""

    exit_code = 2


class ValidationFailed(EventdsError):
    """Input was read but its content is invalid. The message lists every problem."""

    exit_code = 1

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class ConfigError(EventdsError):
    """The project's configuration (patterns, rules, manifest) is wrong."""

    exit_code = 3


class ServiceError(EventdsError):
    """An external service (Label Studio) failed or could not be reached; retrying may help."""

    exit_code = 4


class DocumentsFailed(InputError):
    """Documents failed in a stage of the build (every one is listed; nothing is published).

    With one failure the message is that document's error as the stage raised it."""

    exit_code = 2

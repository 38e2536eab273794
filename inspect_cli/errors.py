"""One exception hierarchy; the CLI turns each into a Chinese message and an exit code."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    BAD_INPUT = 2
    NOT_FOUND = 3
    CONFLICT = 4
    INTERRUPTED = 130
    # What a shell reports for a program killed by SIGPIPE (128 + 13): `inspect-cli … | head`
    # then ends like `cat … | head` would, and `set -o pipefail` scripts see the same code.
    BROKEN_PIPE = 141


class InspectError(Exception):
    """Base of every error reported to the user; the message is Chinese and complete."""

    exit_code = ExitCode.ERROR

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details or [])


class InputError(InspectError):
    """The user's input (option, file, value) is wrong."""

    exit_code = ExitCode.BAD_INPUT


class ChecklistError(InputError):
    """One or more checklist files are invalid; details hold one line per problem."""


class ImportFileError(InputError):
    """A file to import is unreadable or has rows that cannot be imported."""


class NotFoundError(InspectError):
    """A site, item, inspection or checklist named by the user does not exist."""

    exit_code = ExitCode.NOT_FOUND


class StateError(InspectError):
    """The operation is not allowed in the record's current state."""

    exit_code = ExitCode.CONFLICT


class StoreError(InspectError):
    """The database cannot be opened or written, or is not an inspect-cli database."""

    exit_code = ExitCode.BAD_INPUT

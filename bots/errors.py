"""Errors of the bots app: each carries a stable code and an HTTP status (see dit_project.errors)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dit_project.errors import ApplicationError, ConfigurationError, NotFound

if TYPE_CHECKING:
    from bots.manifest import ManifestProblem


class BotNotFound(NotFound):
    """No bot has this slug."""

    code = "bot_not_found"


class BotAlreadyExists(ApplicationError):
    """A bot with this slug exists already."""

    code = "bot_exists"
    status = 409


class BotHasHistory(ApplicationError):
    """A bot that has run (decisions, usage, messages) cannot be deleted."""

    code = "bot_has_history"
    status = 409


class UnknownSetting(NotFound):
    """The bot's manifest declares no setting or credential with this key."""

    code = "unknown_setting"


class InvalidSettingValue(ApplicationError):
    """A value offered for a setting does not fit the field's type, options or bounds."""

    code = "invalid_setting_value"
    status = 400


class SettingResolutionError(ConfigurationError):
    """A setting's stored override or environment variable cannot be read as the field's type."""

    code = "setting_unresolvable"


class ManifestInvalid(ApplicationError):
    """A manifest failed validation; `problems` lists every error with its location."""

    code = "manifest_invalid"
    status = 400

    def __init__(self, problems: Sequence[ManifestProblem], *, source: str = "manifest") -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        super().__init__(
            f"{source}: {count} problem{'s' if count != 1 else ''} found",
            problems=[str(problem) for problem in self.problems],
        )


class BootError(ApplicationError):
    """A bot cannot start: the message says what to fix."""

    code = "boot_failed"
    status = 400

"""Errors of the host harness, in the project's one hierarchy."""

from __future__ import annotations

from dit_project.errors import ApplicationError, ConfigurationError


class HostConfigurationError(ConfigurationError):
    """A host setting has a value the host cannot use; the message names the key."""

    code = "host_setting_invalid"


class PersonaNotConfigured(ConfigurationError):
    """The host cannot tell which persona the bot speaks as."""

    code = "persona_not_configured"


class MuteNotFound(ApplicationError):
    """No such mute for this bot."""

    code = "mute_not_found"
    status = 404

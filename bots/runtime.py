"""Booting a bot: load its manifest, resolve its settings and report them (secrets masked).

`manage.py runbot` boots with these functions, then hands the bot to the host harness (`bots.host.runner`),
which runs it until a stop signal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor

from bots.bot_settings import BotSettings, ResolvedSetting
from bots.choices import SettingSource
from bots.errors import BootError
from bots.selectors import bot_get
from bots.services import manifest_load_file

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BootedBot:
    """A bot ready to run: identity, features and its typed settings."""

    bot_id: int
    slug: str
    name: str
    version: str
    manifest_version: int | None
    channels: tuple[str, ...]
    features: tuple[str, ...]
    settings: BotSettings


def check_database_ready() -> None:
    """Raise BootError naming the command to run when the database cannot be reached or is not migrated."""
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except OperationalError as exc:
        raise BootError(
            f"The database cannot be reached ({exc.__class__.__name__}: {exc}); check DATABASE_URL"
        ) from exc
    if pending:
        raise BootError(
            f"The database is missing {len(pending)} migration(s) (the first: {pending[0][0]}); run "
            "`python manage.py migrate` first (or `python3 scripts/dev.py run`, which migrates for you)"
        )


def boot_bot(*, slug: str, manifest_path: Path | None = None) -> BootedBot:
    """Load `manifest_path` first if given, then boot the bot `slug` from the database; BootError says what to fix."""
    check_database_ready()
    if manifest_path is not None:
        result = manifest_load_file(path=manifest_path)
        if result.bot.slug != slug:
            raise BootError(
                f"The manifest at {manifest_path} is for bot {result.bot.slug!r}, not {slug!r}",
                slug=slug,
            )
    bot = bot_get(slug=slug)
    manifest = bot.manifest
    settings = bot.settings
    # Resolving everything now turns a bad environment variable into a boot error instead of a failure
    # the first time some feature reads the setting.
    missing = [setting.field.key for setting in settings.resolve_all() if setting.field.required and not setting.is_set]
    if missing:
        raise BootError(
            f"Bot {slug!r} cannot start: required settings have no value: {', '.join(missing)} "
            "(set an admin override or the environment variable of the same name)",
            slug=slug,
            missing=missing,
        )
    return BootedBot(
        bot_id=bot.pk,
        slug=bot.slug,
        name=bot.name,
        version=bot.version,
        manifest_version=bot.current_manifest.version if bot.current_manifest is not None else None,
        channels=manifest.channels if manifest is not None else (),
        features=manifest.features if manifest is not None else (),
        settings=settings,
    )


def log_resolved_settings(booted: BootedBot) -> list[ResolvedSetting]:
    """Log one INFO line per setting, secrets masked; return what was logged."""
    resolved = booted.settings.resolve_all()
    for setting in resolved:
        logger.info(
            "bot %s setting %s = %s (%s)", booted.slug, setting.field.key, setting.display, setting.source.label
        )
    return resolved


def settings_summary(booted: BootedBot) -> str:
    """One line saying how many settings the bot has and which are not the manifest's defaults (secrets masked).

    What the local chat prints instead of one log line per setting, so the prompt is not buried.
    """
    resolved = booted.settings.resolve_all()
    changed = [s for s in resolved if s.source in (SettingSource.OVERRIDE, SettingSource.ENVIRONMENT)]
    listed = "; ".join(f"{s.field.key} = {s.display} ({s.source.label.lower()})" for s in changed)
    return (
        f"bot {booted.slug}: {len(resolved)} settings, {len(changed)} not at the manifest's default"
        + (f": {listed}" if listed else "")
        + " (all of them: the bot's settings page in admin, or -v 2)"
    )

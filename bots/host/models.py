"""Models of the host harness: the platform accounts of our bots, outbound beats and channel mutes."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from bots.choices import Platform
from bots.host.choices import BeatKind, BeatStatus, MuteSource

__all__ = ["BotAccount", "ChannelMute", "InboundClaim", "OutboundBeat"]


class BotAccount(models.Model):
    """A platform user id one of our bots logs in as; messages from any of them never trigger a turn."""

    bot = models.ForeignKey("bots.Bot", on_delete=models.CASCADE, related_name="platform_accounts")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    user_id = models.CharField(max_length=64, help_text="The platform's id of the bot's own user.")
    display_name = models.CharField(max_length=200, blank=True)
    seen_at = models.DateTimeField(default=timezone.now, help_text="When the bot last logged in as this user.")

    class Meta:
        ordering = ["bot", "platform", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "user_id"], name="host_botaccount_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.user_id}"


class InboundClaim(models.Model):
    """A bot took an inbound message as a turn to give: it never takes the same message twice, and owes it.

    Transcripts are shared by every bot in a guild, so "already stored" cannot tell one bot's redelivery
    from another bot's first sight of a message; the claim is per bot, and survives a restart. It is written
    in the transaction that stores the message and settled when the message has had its turn (or was let go,
    with the reason); a process that stops in between leaves it unsettled, with the message kept in
    `payload`, and the next process gives that turn.
    """

    bot = models.ForeignKey("bots.Bot", on_delete=models.CASCADE, related_name="inbound_claims")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    message_id = models.CharField(max_length=64)
    claimed_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField(
        null=True, blank=True, help_text="The message as the adapter delivered it, until it is settled."
    )
    settled_at = models.DateTimeField(null=True, blank=True)
    settled_reason = models.CharField(max_length=200, blank=True)
    decision = models.ForeignKey(
        "dispositions.DispositionDecision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_claims",
        help_text="The turn that answered the message.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bot", "platform", "message_id"], name="host_inboundclaim_unique"),
        ]
        indexes = [
            models.Index(
                fields=["bot", "claimed_at"],
                condition=models.Q(settled_at__isnull=True),
                name="host_claim_unsettled",
            ),
            models.Index(fields=["claimed_at"], name="host_claim_claimed_at"),
        ]

    def __str__(self) -> str:
        return f"{self.bot_id}:{self.platform}:{self.message_id}"


class OutboundBeat(models.Model):
    """One beat of a turn, recorded before it is sent so that no beat is ever sent twice.

    The idempotency key is the decision id and the beat index; the adapter sends a key once, and a row
    already `sent` is never sent again, also by a restarted process.
    """

    decision = models.ForeignKey(
        "dispositions.DispositionDecision", on_delete=models.CASCADE, related_name="outbound_beats"
    )
    index = models.PositiveIntegerField(help_text="Position of the beat in its turn, from 0.")
    kind = models.CharField(max_length=10, choices=BeatKind.choices, default=BeatKind.MESSAGE)
    text = models.TextField(help_text="The words sent, or the emoji of a reaction.")
    is_correction = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=BeatStatus.choices, default=BeatStatus.PENDING)
    platform = models.CharField(max_length=20, choices=Platform.choices)
    channel_id = models.CharField(max_length=64)
    target_message_id = models.CharField(max_length=64, blank=True, help_text="The message replied to, or reacted to.")
    platform_message_ids = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["decision", "index"]
        # "Which turn sent this message?" (reception: a reaction or a reply to the bot's message).
        indexes = [GinIndex(fields=["platform_message_ids"], name="host_beat_message_ids")]
        constraints = [
            models.UniqueConstraint(fields=["decision", "index"], name="host_outboundbeat_unique_index"),
            models.CheckConstraint(
                condition=models.Q(status__in=BeatStatus.values), name="host_outboundbeat_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"beat {self.idempotency_key} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        """The key the adapter sends this beat under: decision id and index."""
        return beat_key(self.decision_id, self.index)


def beat_key(decision_id: int, index: int) -> str:
    """The idempotency key of beat `index` of a decision."""
    return f"dit-beat:{decision_id}:{index}"


class ChannelMute(models.Model):
    """The bot was told to be quiet in a channel: its unprompted turns stay silent until `until` or a lift."""

    bot = models.ForeignKey("bots.Bot", on_delete=models.CASCADE, related_name="channel_mutes")
    platform = models.CharField(max_length=20, choices=Platform.choices, default=Platform.DISCORD)
    guild_id = models.CharField(max_length=64, blank=True)
    channel_id = models.CharField(max_length=64)
    source = models.CharField(max_length=20, choices=MuteSource.choices)
    reason = models.TextField(blank=True, help_text="Why: the member's words, or the moderator's note.")
    muted_by = models.CharField(max_length=200, help_text="Who muted: a member as 'name (u:id)', or a staff user.")
    muted_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message_id = models.CharField(max_length=64, blank=True, help_text="The platform message that muted the bot.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    until = models.DateTimeField(help_text="The mute ends by itself at this time.")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.CharField(max_length=200, blank=True)
    lifted_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lift_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["bot", "channel_id", "-until"], name="host_mute_channel_until")]
        constraints = [
            models.CheckConstraint(condition=models.Q(until__gt=models.F("created_at")), name="host_mute_until_after"),
            models.CheckConstraint(condition=models.Q(source__in=MuteSource.values), name="host_mute_source_valid"),
        ]

    def __str__(self) -> str:
        return f"mute of {self.channel_id} by {self.muted_by}"

    def clean(self) -> None:
        """A mute ends after it starts."""
        if self.until is not None and self.created_at is not None and self.until <= self.created_at:
            raise ValidationError({"until": "The mute must end after it starts."})

    def is_active(self, *, now: datetime | None = None) -> bool:
        """Whether the mute holds at `now`: not lifted and not yet over."""
        moment = now or timezone.now()
        return self.lifted_at is None and self.until > moment

"""The live page's websocket: staff only; every decision sent to the group is passed on as JSON."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from observability.dashboard.live import live_group

# A close code in the application range: the socket was refused because the user is not staff.
NOT_STAFF = 4403


class DecisionFeedConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Joins the live group for a signed-in staff member; refuses anyone else."""

    async def connect(self) -> None:
        """Join staff to the group; close on anyone else."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_staff:
            # Accepted, then closed with a code the page can name ("sign in as staff"); refusing the
            # handshake would look like any other failure to the browser.
            await self.accept()
            await self.close(code=NOT_STAFF)
            return
        self.group = live_group()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        """Leave the group."""
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def decision_update(self, event: dict[str, Any]) -> None:
        """A recorded or finished decision: pass it on."""
        await self.send_json({"kind": event["kind"], "decision": event["decision"]})

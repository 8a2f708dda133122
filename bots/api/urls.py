"""API routes of the bots app: /api/bots/, /api/bots/{slug}/settings/, /api/bots/{slug}/mutes/ and
/api/task-runs/."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from bots.api.views import BotSettingViewSet, BotViewSet, TaskRunViewSet
from bots.host.api.views import ChannelMuteViewSet

router = SimpleRouter()
router.register("bots", BotViewSet, basename="bot")
router.register("task-runs", TaskRunViewSet, basename="task-run")

bot_settings = BotSettingViewSet.as_view({"get": "list"})
bot_setting = BotSettingViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"})
bot_mutes = ChannelMuteViewSet.as_view({"get": "list", "post": "create"})
bot_mute_lift = ChannelMuteViewSet.as_view({"post": "lift"})

urlpatterns: list[URLPattern | URLResolver] = [
    *router.urls,
    path("bots/<slug:slug>/settings/", bot_settings, name="bot-settings"),
    path("bots/<slug:slug>/settings/<str:key>/", bot_setting, name="bot-setting"),
    path("bots/<slug:slug>/mutes/", bot_mutes, name="bot-mutes"),
    path("bots/<slug:slug>/mutes/<int:mute_id>/lift/", bot_mute_lift, name="bot-mute-lift"),
]

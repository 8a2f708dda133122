"""API routes of the bots app: /api/bots/ and /api/bots/{slug}/settings/."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from bots.api.views import BotSettingViewSet, BotViewSet

router = SimpleRouter()
router.register("bots", BotViewSet, basename="bot")

bot_settings = BotSettingViewSet.as_view({"get": "list"})
bot_setting = BotSettingViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"})

urlpatterns: list[URLPattern | URLResolver] = [
    *router.urls,
    path("bots/<slug:slug>/settings/", bot_settings, name="bot-settings"),
    path("bots/<slug:slug>/settings/<str:key>/", bot_setting, name="bot-setting"),
]

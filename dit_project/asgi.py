"""ASGI entry point: static files, then Django over HTTP (admin, dashboard, API, gateway), Channels for websockets.

Static files are answered before Django (ServeStatic, asynchronously), so no request pays for a sync-only
static middleware's thread hops. What collectstatic gathered into STATIC_ROOT is served first; each app's own
static folder stands behind it, so a checkout that never ran collectstatic (a test run) still serves the
dashboard's script and its vendored Chart.js.

Websockets (the live dashboard) pass the allowed-hosts origin check, then the session's user is put in the
scope, then the route picks the consumer.
"""

import os
from pathlib import Path

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dit_project.settings")

django_asgi = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from servestatic import ServeStaticASGI  # noqa: E402

from observability.dashboard.routing import websocket_urlpatterns  # noqa: E402


def static_and_django() -> ServeStaticASGI:
    """Django behind the static files: collected ones win over each app's own (added later, they overwrite)."""
    http = ServeStaticASGI(django_asgi, prefix=settings.STATIC_URL)
    # Reversed, so that the first app's file wins where two apps ship one path (as Django's finders do).
    for app_config in reversed(list(apps.get_app_configs())):
        folder = Path(app_config.path) / "static"
        if folder.is_dir():
            http.add_files(folder, prefix=settings.STATIC_URL)
    if Path(settings.STATIC_ROOT).is_dir():
        http.add_files(settings.STATIC_ROOT, prefix=settings.STATIC_URL)
    return http


http = static_and_django()
websocket = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
application = ProtocolTypeRouter({"http": http, "websocket": websocket})

"""ASGI entry point: static files, then Django over HTTP (admin, API, gateway), Channels for websockets.

Static files are answered before Django (ServeStatic, asynchronously), so no request pays for a sync-only
static middleware's thread hops.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dit_project.settings")

django_asgi = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from servestatic import ServeStaticASGI  # noqa: E402

http = ServeStaticASGI(django_asgi, root=settings.STATIC_ROOT, prefix=settings.STATIC_URL)
application = ProtocolTypeRouter({"http": http})

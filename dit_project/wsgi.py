"""WSGI entry point, for servers that do not speak ASGI: static files first, then Django."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dit_project.settings")

from django.conf import settings
from servestatic import ServeStatic

application = ServeStatic(get_wsgi_application(), root=settings.STATIC_ROOT, prefix=settings.STATIC_URL)

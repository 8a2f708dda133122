"""A URL that fails, for the request-capture tests, beside the project's own."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from dit_project.urls import urlpatterns as project_urlpatterns


def broken(request: HttpRequest) -> HttpResponse:
    """A view with a bug."""
    raise ZeroDivisionError("the view divided by zero")


urlpatterns = [path("broken/", broken), *project_urlpatterns]

"""Routes that speak the OpenAI protocol under /v1/."""

from django.urls import URLPattern, URLResolver, path

from gateway import openai_views

app_name = "openai"

urlpatterns: list[URLPattern | URLResolver] = [
    path("chat/completions", openai_views.chat_completions, name="chat-completions"),
    path("embeddings", openai_views.embeddings, name="embeddings"),
    path("models", openai_views.models, name="models"),
    path("dit/budget", openai_views.budget, name="budget"),
]

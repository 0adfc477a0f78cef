FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    AFTERCARE_VAR_DIR=/app/var STATIC_ROOT=/app/staticfiles SKIP_COLLECTSTATIC=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-deps -r requirements.txt && useradd --create-home aftercare
COPY . .
# The hashed, compressed static files and their manifest, made in production mode like
# everything else. Nothing is signed at build time, so a throwaway key will do.
RUN DEBUG=0 SMS_BACKEND=locmem \
    SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var/prometheus /app/var/photos && chown -R aftercare /app/var
USER aftercare
EXPOSE 8000
# The same pieces as `make serve`: migrations, then web, worker and beat from the Procfile
# under supervisord. docker-compose.yml runs each piece as its own service instead.
CMD ["sh", "-c", "bin/release && exec bin/supervise"]

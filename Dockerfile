FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 AFTERCARE_VAR_DIR=/app/var
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-deps -r requirements.txt && useradd --create-home aftercare
COPY . .
RUN DEBUG=1 python manage.py collectstatic --noinput && mkdir -p /app/var && chown -R aftercare /app/var
USER aftercare
EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi:application", "-c", "python:clinic.gunicorn_conf"]

# The production image: production dependencies only (requirements-production.lock, without the dev
# extra), run as an unprivileged user, listening on 0.0.0.0:8080. Migrations are a separate step
# before the API starts (`stateset-cli migrate up`: compose's `migration` service, the Kubernetes Job).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_ENV=production \
    APP__HOST=0.0.0.0 \
    APP__PORT=8080

WORKDIR /app
COPY requirements-production.lock ./
RUN pip install --no-cache-dir -r requirements-production.lock

COPY pyproject.toml README.md ./
COPY stateset_gateway ./stateset_gateway
COPY config ./config
RUN pip install --no-cache-dir --no-deps . \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin stateset

USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('APP__PORT', '8080') + '/health', timeout=4)"]
CMD ["stateset-cli", "serve"]

# One image for the four services and the web client; the command picks the service and its mode:
#   docker build -t canopy .
#   docker run canopy sh -c 'python -m canopy_fanout migrate && exec python -m canopy_fanout all'
#   docker run -p 8080:8080 canopy python -m canopy_web
# Settings come from CANOPY_* environment variables (README, "Settings" and "Deploy").

# The web client's front-end packages (htmx), from npm by the lock as `make setup` installs
# them; the dev ones (axe-core, for the browser tests) stay out.
FROM node:22-slim AS assets
WORKDIR /assets
COPY services/web/package.json services/web/package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim AS build
# The uv the lock was written with; from PyPI like scripts/setup.sh installs it.
RUN pip install --no-cache-dir --disable-pip-version-check "uv==0.13.9"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Third-party dependencies first, so this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
# The dev and testing packages are workspace members too (their pyprojects are needed to read
# the lock) but dev-only: `--no-dev` leaves them out of the image.
COPY libs/dev/pyproject.toml libs/dev/
COPY libs/testing/pyproject.toml libs/testing/
COPY services/ingestion/pyproject.toml services/ingestion/
COPY services/fanout/pyproject.toml services/fanout/
COPY services/notification/pyproject.toml services/notification/
COPY services/analytics/pyproject.toml services/analytics/
COPY services/web/pyproject.toml services/web/
RUN uv sync --frozen --no-dev --no-editable --no-install-workspace
# Then Canopy itself, installed (not editable) into the same environment: the runtime stage
# needs nothing but /app/.venv.
COPY libs libs
COPY services services
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin canopy
COPY --from=build /app/.venv /app/.venv
COPY --from=assets /assets/node_modules /app/web/node_modules
# Listen on every interface (the services default to 127.0.0.1 for the local run); the web
# client serves its npm packages from where the assets stage put them.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CANOPY_INGESTION_HOST=0.0.0.0 \
    CANOPY_FANOUT_HOST=0.0.0.0 \
    CANOPY_NOTIFY_HOST=0.0.0.0 \
    CANOPY_ANALYTICS_HOST=0.0.0.0 \
    CANOPY_WEB_HOST=0.0.0.0 \
    CANOPY_WEB_ASSETS_DIR=/app/web/node_modules
WORKDIR /app
USER 10001
EXPOSE 8001 8002 8003 8004 8080
# No default service: say how to pick one.
CMD ["sh", "-c", "echo 'run one service: python -m canopy_<ingestion|fanout|notify|analytics> [api|worker|all|migrate], or the web client: python -m canopy_web' >&2; exit 64"]

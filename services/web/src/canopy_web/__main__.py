"""``python -m canopy_web``: serve the web client (settings load here, nowhere else)."""

from __future__ import annotations

import logging
import sys

import uvicorn
from pydantic import ValidationError

from canopy_common.logging import configure_logging
from canopy_web.app import create_app
from canopy_web.settings import Settings


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        print("canopy_web: invalid settings", file=sys.stderr)
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            print(f"  {where}: {error['msg']}", file=sys.stderr)
        return 2
    if settings.env == "production" and (refused := settings.production_errors()):
        print("canopy_web: settings refused in production", file=sys.stderr)
        for reason in refused:
            print(f"  {reason}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, json=settings.log_json, service=settings.service_name)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per API call is noise
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())

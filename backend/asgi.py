"""The ASGI application for servers (uvicorn backend.asgi:app); settings come from the environment.

The log format is set here too, so a server started some other way than `python -m backend serve` writes the
same lines (uvicorn has configured its own loggers by the time it imports this module)."""

from backend.app import create_app
from backend.config import Settings
from backend.logs import configure_logging

settings = Settings.from_env()
configure_logging(settings)
app = create_app(settings)

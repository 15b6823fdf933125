"""The ASGI application for servers (uvicorn backend.asgi:app); settings come from the environment."""

from backend.app import create_app

app = create_app()

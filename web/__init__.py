"""The PWA: page controllers that call the backend's services, and their templates."""

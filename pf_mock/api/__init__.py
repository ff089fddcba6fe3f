from .app import AppOptions, create_app
from .client import in_process_client

__all__ = ["AppOptions", "create_app", "in_process_client"]

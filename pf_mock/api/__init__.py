from .app import AppOptions, create_app, operations_document
from .client import in_process_client

__all__ = ["AppOptions", "create_app", "in_process_client", "operations_document"]

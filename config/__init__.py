"""Heard's configuration (environment variables with the ``HEARD_`` prefix)."""

from config.settings import Settings, describe_validation_error, load_settings

__all__ = ["Settings", "describe_validation_error", "load_settings"]

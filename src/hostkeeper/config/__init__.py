"""Configuration: pydantic models, YAML loading with line numbers, validation."""

from hostkeeper.config.issues import ConfigError, ConfigIssue
from hostkeeper.config.loader import LoadedConfig, load_config, parse_config
from hostkeeper.config.models import Config

__all__ = ["Config", "ConfigError", "ConfigIssue", "LoadedConfig", "load_config", "parse_config"]

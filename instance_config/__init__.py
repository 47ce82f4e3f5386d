"""One territory node's configuration: load TOML, apply environment overrides, validate.

Standard library only, so that every other package may import it.
"""

from instance_config.errors import ConfigError
from instance_config.load import CONFIG_FILE_NAME, load_config, parse_config
from instance_config.model import (
    DatabaseConfig,
    FederationConfig,
    HttpConfig,
    InstanceConfig,
    LimitsConfig,
    MapConfig,
    NodeConfig,
    OpenDataConfig,
    Role,
    TerritoryConfig,
    TerritoryLevel,
)
from instance_config.write import render_config_toml

__all__ = [
    "CONFIG_FILE_NAME",
    "ConfigError",
    "DatabaseConfig",
    "FederationConfig",
    "HttpConfig",
    "InstanceConfig",
    "LimitsConfig",
    "MapConfig",
    "NodeConfig",
    "OpenDataConfig",
    "Role",
    "TerritoryConfig",
    "TerritoryLevel",
    "load_config",
    "parse_config",
    "render_config_toml",
]

"""Every typed key under which the application stores shared objects."""

from aiohttp import web
from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.storage.keyring import KeyRing

config_key = web.AppKey("config", InstanceConfig)
engine_key = web.AppKey("engine", AsyncEngine)
sessions_key = web.AppKey("sessions", async_sessionmaker[AsyncSession])
keyring_key = web.AppKey("keyring", KeyRing)
templates_key = web.AppKey("templates", Environment)

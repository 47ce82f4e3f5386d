"""Every typed key under which the application stores shared objects."""

from aiohttp import web
from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.delivery.worker import DeliveryWorker
from federation.inbox.worker import InboxWorker
from federation.worker_loop import BackgroundWorker, PeriodicJob
from instance_config import InstanceConfig
from node.services.runtime import Runtime
from node.storage.inbox import SqlInbox
from node.storage.keyring import KeyRing

config_key = web.AppKey("config", InstanceConfig)
engine_key = web.AppKey("engine", AsyncEngine)
sessions_key = web.AppKey("sessions", async_sessionmaker[AsyncSession])
keyring_key = web.AppKey("keyring", KeyRing)
templates_key = web.AppKey("templates", Environment)
runtime_key = web.AppKey("runtime", Runtime)
inbox_store_key = web.AppKey("inbox_store", SqlInbox)
inbox_worker_key = web.AppKey("inbox_worker", InboxWorker)
delivery_worker_key = web.AppKey("delivery_worker", DeliveryWorker)
lease_heartbeat_key = web.AppKey("lease_heartbeat", PeriodicJob)
#: the background workers running in this process, for /healthz (absent: none run)
watched_workers_key: web.AppKey[tuple[BackgroundWorker, ...]] = web.AppKey("watched_workers")

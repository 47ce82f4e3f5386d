"""Pages and forms of the participation chain: needs."""

from aiohttp import web

routes = web.RouteTableDef()

"""Pages and forms of the participation chain: decisions."""

from aiohttp import web

routes = web.RouteTableDef()

"""Pages and forms of the participation chain: proposals."""

from aiohttp import web

routes = web.RouteTableDef()

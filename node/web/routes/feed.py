"""Pages and forms of the participation chain: feed."""

from aiohttp import web

routes = web.RouteTableDef()

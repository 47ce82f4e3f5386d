"""Pages and forms of the participation chain: circles."""

from aiohttp import web

routes = web.RouteTableDef()

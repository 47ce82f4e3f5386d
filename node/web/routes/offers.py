"""Pages and forms of the participation chain: offers."""

from aiohttp import web

routes = web.RouteTableDef()

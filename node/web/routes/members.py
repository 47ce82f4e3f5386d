"""Pages and forms of the participation chain: members."""

from aiohttp import web

routes = web.RouteTableDef()

"""Pages and forms of the participation chain: experiments."""

from aiohttp import web

routes = web.RouteTableDef()

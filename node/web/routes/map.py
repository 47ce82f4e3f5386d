"""Territorial knowledge pages: map."""

from aiohttp import web

routes = web.RouteTableDef()

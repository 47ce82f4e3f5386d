"""Territorial knowledge pages: map_data."""

from aiohttp import web

routes = web.RouteTableDef()

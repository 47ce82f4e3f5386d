"""Territorial knowledge pages: open_data."""

from aiohttp import web

routes = web.RouteTableDef()

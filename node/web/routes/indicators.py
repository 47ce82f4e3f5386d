"""Territorial knowledge pages: indicators."""

from aiohttp import web

routes = web.RouteTableDef()

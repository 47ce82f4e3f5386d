"""The Mastodon client API (OAuth 2 and /api/v1, /api/v2), for residents' apps."""

from node.web.client_api import (
    account_apps,
    accounts_routes,
    instance_routes,
    notifications_routes,
    oauth_routes,
    statuses_routes,
)

ROUTE_TABLES = (
    account_apps.routes,
    oauth_routes.routes,
    instance_routes.routes,
    accounts_routes.routes,
    statuses_routes.routes,
    notifications_routes.routes,
)

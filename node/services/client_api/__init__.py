"""The Mastodon client API's use cases: OAuth apps and tokens, accounts, statuses, timelines,
notifications, polls and search, over the node's own services (docs.joinmastodon.org)."""

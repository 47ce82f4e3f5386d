"""Moderation: residents' and other servers' reports, the moderators' actions (hide, warn,
suspend, silence), domain blocks with Mastodon's severities and their CSV block lists, and
what the public moderation page shows."""

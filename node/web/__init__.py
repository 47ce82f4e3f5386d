"""HTTP: HTML pages, ActivityPub endpoints, well-known discovery; handlers stay thin."""

"""The node's own actors: creating them, finding them, telling followers of changes."""

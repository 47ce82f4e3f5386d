"""The one place where the node's data becomes ActivityStreams documents, and back."""

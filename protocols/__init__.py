"""Wire formats of the fediverse, pure: no I/O, no framework, nothing else of ours imported."""

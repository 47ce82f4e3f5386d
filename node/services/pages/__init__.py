"""Read models of pages that are no single area's: the activity feed and the timeline."""

"""`maillage demo`: a realistic sample territory in French (Saint-Aubin-sur-Loire), created
through the node's own services and dated over the last two years, so that a newcomer sees
a living territory and pages can be shown and tested on real-looking data."""

from node.demo.fill import NoAdmin, NodeNotEmpty, fill_demo
from node.demo.report import DemoReport, describe_demo

__all__ = ["DemoReport", "NoAdmin", "NodeNotEmpty", "describe_demo", "fill_demo"]

"""JSON-LD for Maillage: the project's inline context and an offline pyld document loader.

Most documents never need pyld: when their ``@context`` only names contexts bundled here
(see ``uses_only_known_contexts``) their plain keys can be read directly. pyld is the slow
path, and its loader serves the bundled context documents only; it never touches the network.
"""

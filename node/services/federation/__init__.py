"""The node's side of federation: inbox handlers, publishing, following, remote actors
and objects, signers, and the admin's view of deliveries."""

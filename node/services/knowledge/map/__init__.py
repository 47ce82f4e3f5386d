"""The map: places, map actors and flows; their forms, imports, exports and documents."""

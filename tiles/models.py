"""Models of the tiles app."""

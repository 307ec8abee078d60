"""Views of the petitions app, one module per audience: citizens, staff desk, field app (Open311 lives in
petitions.open311)."""

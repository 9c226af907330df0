"""Loss terms shared by the deep methods (one file per family)."""

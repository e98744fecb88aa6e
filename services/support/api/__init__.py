"""HTTP doors of the support service."""

"""The decision dashboard: staff pages drawn from the aggregate endpoints under /api/dashboard/, and the live feed."""

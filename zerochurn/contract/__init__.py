"""The raw data contract: table specs, loading and validation."""

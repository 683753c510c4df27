"""The service on a Ray cluster (Ray Serve): `python -m app serve --ray`, deploy/ray-serve.yaml."""

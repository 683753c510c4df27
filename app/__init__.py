"""Huashu (话术): retrieval of complaint-handling scripts and the statutes they rely on."""

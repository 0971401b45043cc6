"""Test support: the pytest plugin (real servers, per-test tenants) and factories."""

"""WSGI entry point of orders-api (a fixture: the demo never runs it)."""

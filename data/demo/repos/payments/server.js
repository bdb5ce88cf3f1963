// payments service entry point (a fixture: the demo never runs it)

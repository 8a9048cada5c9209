"""PyFlink job entry points: wiring only (sources, operators, sinks, configuration)."""

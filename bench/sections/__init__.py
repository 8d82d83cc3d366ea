"""The benchmark's sections, one module each: ``run(lab, scale) -> dict`` of measurements."""

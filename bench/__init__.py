"""Benchmarks: each module's ``run()`` returns figures compared with the raw library call they
stand on, measured in the same run. ``python -m bench`` runs them all."""


def figure(name: str, value: float, unit: str, base_name: str, base_value: float) -> dict:
    """One figure with its baseline and the ratio value / baseline."""
    return {
        "name": name,
        "value": round(value, 4),
        "unit": unit,
        "baseline": {"name": base_name, "value": round(base_value, 4)},
        "ratio": round(value / base_value, 3) if base_value else None,
    }

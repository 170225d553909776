"""Agency statistics: summary tables kept by a refresh pass, the dashboard's figures
and the fairness monitor (see models/stats.py)."""

__all__: list[str] = []

"""The application: configuration, records, services, jobs and the doors (web, CLI, demo)
that lead to them. The pure domain lives beside it in ``processing`` and ``signing``."""

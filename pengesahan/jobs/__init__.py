"""Background work on RQ: ``queue`` (a leaf: where and how jobs are put), ``tasks`` (the job
bodies, which take record ids and call the services) and ``worker`` (the worker process and
its reconciler)."""

import tests.workers.kinds  # noqa: F401 - the worker-only job kinds, known to this process too

"""Job kinds of the datasets area (registered with apps.core.jobs.job_kind)."""

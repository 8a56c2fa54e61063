"""Datasets in the engine: reading uploaded files into Arrow tables, inferring and casting column types,
per-column summaries, Parquet output and the paged, sorted views the data table serves. Pure pandas/pyarrow."""

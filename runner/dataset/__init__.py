"""Reports as a dataset: tidy Parquet tables (``runner export``, ``runner batch --dataset``) queried
with DuckDB (``runner query``). A view of the reports, never a second truth; see docs/dataset.md.

Modules: schemas (the Arrow schema of every table, the export schema version), rows (one report ->
rows: run and media tables, the visual and audio results), text (the ``text`` table, alone because
text_overlay's result evolves), layout (the folder, its manifest and version check), writer (the
streaming export), query (DuckDB over the files), docs (docs/dataset.md's tables from the schemas).
pyarrow and duckdb come from the ``dataset`` extra and are imported by the modules that need them.
"""

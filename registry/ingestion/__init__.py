"""Bulk registration of a version's examples from JSON Lines, CSV or Parquet.

readers  stream records out of a file (never loading it whole), one problem per
         unreadable line;
rows     validate a record into the database row, with its lineage resolved;
writers  put valid rows into registry_example (PostgreSQL COPY, or a staging
         table and one INSERT ... SELECT);
engine   runs one IngestionJob: everything in one transaction, or nothing.
"""

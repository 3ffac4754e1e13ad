"""A multi-academy trust: many schools, one shared ledger, scans spread over a Dask
cluster, results as one Parquet dataset, and one page for the trust's DPO.

``config`` reads the trust file (a list of schools, each with its own dataward config,
state folder and fingerprint key); ``parts`` splits a school's shares into parts that scan
on their own; ``scan`` scans one part; ``results`` writes the trust's Parquet dataset;
``report`` renders the trust page. Prefect and Dask stay in ``flows/trust.py``.
"""

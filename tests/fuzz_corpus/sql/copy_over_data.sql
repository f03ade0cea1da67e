COPY (SELECT 1 AS a) TO '<DIR>/layers.parquet'

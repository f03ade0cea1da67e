-- Why difference first? Raw levels that share a daily trend correlate
-- strongly whatever their cause; their first differences do not.
--
-- For each layer: r of the raw series against the app's throughput (traffic
-- drives neither layer's time per request directly, yet raw r is high), and
-- r of the first differences (near zero).
WITH joined AS (
    SELECT l.layer, l.ts, l.ms, a.throughput_rpm
    FROM layers l JOIN app a USING (ts)
),
differenced AS (
    SELECT layer, ms, throughput_rpm,
           diff(ms) OVER (PARTITION BY layer ORDER BY ts) AS d_ms,
           diff(throughput_rpm) OVER (PARTITION BY layer ORDER BY ts) AS d_rpm
    FROM joined
)
SELECT layer,
       pearson_r(ms, throughput_rpm) AS raw_r,
       pearson_p(ms, throughput_rpm) AS raw_p,
       pearson_r(d_ms, d_rpm) AS diff_r,
       pearson_p(d_ms, d_rpm) AS diff_p
FROM differenced
GROUP BY layer
ORDER BY raw_r DESC, layer;

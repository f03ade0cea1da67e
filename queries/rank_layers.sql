-- Which layer moved with the app's response time?
--
-- First difference of each layer's time per request and of the app's mean
-- response time (removing the daily trend they all share), joined on ts;
-- Pearson r, its p-value and n per layer, strongest positive correlation first.
WITH app_diff AS (
    SELECT ts, diff(response_ms) OVER (ORDER BY ts) AS d_app
    FROM app
),
layer_diff AS (
    SELECT layer, ts, diff(ms) OVER (PARTITION BY layer ORDER BY ts) AS d_ms
    FROM layers
)
SELECT layer,
       pearson_r(d_ms, d_app) AS r,
       pearson_p(d_ms, d_app) AS p,
       pearson_n(d_ms, d_app) AS n
FROM layer_diff JOIN app_diff USING (ts)
GROUP BY layer
ORDER BY r DESC NULLS LAST, layer;
